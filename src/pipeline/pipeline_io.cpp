// The fitted pipeline in a model artifact: a "pipeline" header field (spec, input schema,
// encoders' categories, output names) and float64 arrays "pipeline.*" for the per-column maps
// and PCA weights, so a load gives bit-identical transforms.
#include <fmt/format.h>

#include <cmath>

#include "artifact/validate.hpp"
#include "pipeline/state.hpp"
#include "tabula/artifact/artifact.hpp"
#include "tabula/core/error.hpp"
#include "tabula/pipeline/pipeline.hpp"

namespace tabula {
namespace {

using pipeline::Affine;
using pipeline::MatrixOp;

constexpr int kPipelineFormat = 1;

void add_maps(ArtifactWriter& out, const std::string& name, const std::vector<Affine>& maps) {
  std::vector<double> flat;
  for (const Affine& a : maps) flat.insert(flat.end(), {a.fill, a.scale, a.shift});
  out.add(name, std::span<const double>(flat), {static_cast<std::int64_t>(maps.size()), 3});
}

/// A width the transform allocates per row: at least 1, at most artifact::kMaxElements.
std::int64_t checked_width(const std::string& field, std::int64_t width) {
  artifact::expect_range(field, width, 1, artifact::kMaxElements);
  return width;
}

std::vector<Affine> read_maps(const ArtifactReader& in, const std::string& name,
                              std::int64_t expected) {
  const std::vector<double> flat = in.doubles(name);
  artifact::expect_size(name, static_cast<std::int64_t>(flat.size()),
                        artifact::checked_product(name, expected, 3),
                        std::to_string(expected) + " maps x 3 values");
  // fill may be NaN (a missing value stays missing); nothing may be infinite.
  for (std::size_t i = 0; i < flat.size(); ++i)
    if (std::isinf(flat[i]) || (i % 3 != 0 && std::isnan(flat[i])))
      artifact::field_error(name, "value " + std::to_string(i) + " is not finite");
  std::vector<Affine> maps;
  for (std::size_t i = 0; i < flat.size(); i += 3)
    maps.push_back({flat[i], flat[i + 1], flat[i + 2]});
  return maps;
}

nlohmann::json save_ops(ArtifactWriter& out, const std::string& prefix,
                        const std::vector<MatrixOp>& ops) {
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t k = 0; k < ops.size(); ++k) {
    const MatrixOp& op = ops[k];
    const std::string name = prefix + ".op" + std::to_string(k);
    nlohmann::json j = {{"width_in", op.width_in}, {"width_out", op.width_out}};
    if (op.pca) {
      const pipeline::PcaMap& m = *op.pca;
      j["kind"] = "pca";
      out.add(name + ".mean", std::span<const double>(m.mean), {m.d});
      out.add(name + ".components", std::span<const double>(m.components), {m.k, m.d});
      out.add(name + ".scale", std::span<const double>(m.scale), {m.k});
    } else {
      j["kind"] = "maps";
      add_maps(out, name + ".maps", op.maps);
    }
    list.push_back(j);
  }
  return list;
}

std::vector<MatrixOp> load_ops(const ArtifactReader& in, const std::string& prefix,
                               const nlohmann::json& list, std::int64_t width) {
  std::vector<MatrixOp> ops;
  for (std::size_t k = 0; k < list.size(); ++k) {
    const nlohmann::json& j = list[k];
    const std::string name = prefix + ".op" + std::to_string(k);
    MatrixOp op;
    op.width_in = artifact::integer(j.at("width_in"), name + ".width_in");
    op.width_out = checked_width(name + ".width_out",
                                 artifact::integer(j.at("width_out"), name + ".width_out"));
    artifact::expect_size(name + ".width_in", op.width_in, width,
                          "the step before gives " + std::to_string(width) + " values");
    const std::string kind = j.at("kind").get<std::string>();
    if (kind == "pca") {
      pipeline::PcaMap m;
      m.d = op.width_in;
      m.k = op.width_out;
      m.mean = in.doubles(name + ".mean");
      m.components = in.doubles(name + ".components");
      m.scale = in.doubles(name + ".scale");
      const std::string widths = std::to_string(m.k) + " x " + std::to_string(m.d) + " (widths)";
      artifact::expect_size(name + ".mean", static_cast<std::int64_t>(m.mean.size()), m.d, widths);
      artifact::expect_size(name + ".components", static_cast<std::int64_t>(m.components.size()),
                            artifact::checked_product(name + ".components", m.k, m.d), widths);
      artifact::expect_size(name + ".scale", static_cast<std::int64_t>(m.scale.size()), m.k,
                            widths);
      artifact::expect_finite(name + ".mean", m.mean);
      artifact::expect_finite(name + ".components", m.components);
      artifact::expect_finite(name + ".scale", m.scale);
      op.pca = std::move(m);
    } else if (kind == "maps") {
      artifact::expect_size(name + ".width_out", op.width_out, op.width_in,
                            "a map step keeps its width");
      op.maps = read_maps(in, name + ".maps", op.width_in);
    } else {
      throw InputError("unknown pipeline operation '" + kind + "'");
    }
    width = op.width_out;
    ops.push_back(std::move(op));
  }
  return ops;
}

/// Fitted steps as `inspect` shows them: a list of {"kind": text, "params": {...}, ...}.
nlohmann::json described_steps(const nlohmann::json& steps, const std::string& field) {
  if (!steps.is_array()) artifact::field_error(field, "not a list");
  for (const nlohmann::json& step : steps)
    if (!step.is_object() || !step.contains("kind") || !step["kind"].is_string() ||
        !step.contains("params") || !step["params"].is_object())
      artifact::field_error(field, "a step is not {\"kind\": ..., \"params\": {...}}");
  return steps;
}

ColumnType type_named(const std::string& text) {
  if (text == "numeric") return ColumnType::kNumeric;
  if (text == "categorical") return ColumnType::kCategorical;
  throw InputError("unknown column type '" + text + "'");
}

}  // namespace

void Pipeline::save(ArtifactWriter& out) const {
  const State& s = *state_;
  if (!s.fitted) throw Error("pipeline is not fitted");
  nlohmann::json inputs = nlohmann::json::array();
  for (const auto& [name, type] : s.inputs)
    inputs.push_back({{"name", name}, {"type", to_string(type)}});
  nlohmann::json branches = nlohmann::json::array();
  for (std::size_t b = 0; b < s.branches.size(); ++b) {
    const FittedBranch& branch = s.branches[b];
    const std::string prefix = "pipeline.b" + std::to_string(b);
    nlohmann::json columns = nlohmann::json::array();
    for (std::size_t c = 0; c < branch.columns.size(); ++c) {
      const FittedColumn& fc = branch.columns[c];
      const std::string maps = prefix + ".c" + std::to_string(c) + ".maps";
      nlohmann::json j = {{"name", fc.name},
                          {"type", to_string(fc.type)},
                          {"input", fc.input},
                          {"width", fc.width()},
                          {"maps", maps}};
      if (fc.fill) j["fill"] = *fc.fill;
      if (fc.encoder) j["encoder"] = pipeline::encoder_to_json(*fc.encoder);
      add_maps(out, maps, fc.maps);
      columns.push_back(j);
    }
    branches.push_back({{"name", branch.name},
                        {"columns", columns},
                        {"width_in", branch.width_in},
                        {"width", branch.width},
                        {"ops", save_ops(out, prefix, branch.ops)},
                        {"steps", branch.steps}});
  }
  out.set("pipeline", {{"format", kPipelineFormat},
                       {"spec", s.spec.to_json()},
                       {"inputs", inputs},
                       {"branches", branches},
                       {"concat_width", s.concat_width},
                       {"after", save_ops(out, "pipeline.after", s.after)},
                       {"after_steps", s.after_steps},
                       {"output_names", s.output_names},
                       {"notes", s.notes}});
}

Pipeline Pipeline::load(const ArtifactReader& in) {
  const std::string where = "model file '" + in.path() + "': pipeline: ";
  try {
    const nlohmann::json& j = in.header().at("pipeline");
    const int format = static_cast<int>(artifact::integer(j.at("format"), "pipeline.format"));
    if (format != kPipelineFormat)
      throw InputError("pipeline format " + std::to_string(format) + " is not known to this build");
    Pipeline p(PipelineSpec::from_json(j.at("spec"), "spec"));
    State& s = *p.state_;
    for (const auto& i : j.at("inputs"))
      s.inputs.emplace_back(i.at("name").get<std::string>(),
                            type_named(i.at("type").get<std::string>()));
    const auto n_inputs = static_cast<std::int64_t>(s.inputs.size());
    const nlohmann::json& branches = j.at("branches");
    for (std::size_t b = 0; b < branches.size(); ++b) {
      const nlohmann::json& bj = branches[b];
      FittedBranch branch;
      branch.name = bj.at("name").get<std::string>();
      for (const auto& cj : bj.at("columns")) {
        FittedColumn fc;
        fc.name = cj.at("name").get<std::string>();
        fc.type = type_named(cj.at("type").get<std::string>());
        fc.input = artifact::integer(cj.at("input"), "input");
        if (fc.input < 0 || fc.input >= n_inputs ||
            s.inputs[static_cast<std::size_t>(fc.input)] != std::pair(fc.name, fc.type))
          throw InputError("column '" + fc.name + "' does not match the input schema");
        const std::string field = "column '" + fc.name + "': ";
        if (cj.contains("fill")) fc.fill = cj["fill"].get<std::string>();
        try {
          if (cj.contains("encoder")) fc.encoder = pipeline::encoder_from_json(cj["encoder"]);
        } catch (const InputError& e) {
          throw InputError(field + e.what());
        }
        // Only a text column has codes for an encoder to read, and every text column is read
        // through one (the transform reads a column without one as numbers).
        if (fc.encoder && fc.type != ColumnType::kCategorical)
          throw InputError(field + "field 'encoder': the column is numeric");
        if (!fc.encoder && fc.type == ColumnType::kCategorical)
          throw InputError(field + "field 'encoder' is missing: the column is categorical");
        const std::int64_t width = artifact::integer(cj.at("width"), "width");
        artifact::expect_size("column '" + fc.name + "'.width", width,
                              fc.encoder ? fc.encoder->width : 1, "its encoder's width");
        fc.maps = read_maps(in, cj.at("maps").get<std::string>(), width);
        branch.width_in += width;
        branch.columns.push_back(std::move(fc));
      }
      if (branch.width_in != artifact::integer(bj.at("width_in"), "width_in"))
        throw InputError("branch '" + branch.name + "' has an inconsistent width");
      branch.ops = load_ops(in, "pipeline.b" + std::to_string(b), bj.at("ops"), branch.width_in);
      branch.width = branch.ops.empty() ? branch.width_in : branch.ops.back().width_out;
      if (branch.width != artifact::integer(bj.at("width"), "width"))
        throw InputError("branch '" + branch.name + "' has an inconsistent output width");
      branch.steps = described_steps(bj.value("steps", nlohmann::json::array()),
                                     "pipeline.branches[" + std::to_string(b) + "].steps");
      s.concat_width += branch.width;
      s.branches.push_back(std::move(branch));
    }
    if (s.concat_width != artifact::integer(j.at("concat_width"), "pipeline.concat_width"))
      throw InputError("the branches' widths do not add up");
    s.after = load_ops(in, "pipeline.after", j.at("after"), s.concat_width);
    s.after_steps =
        described_steps(j.value("after_steps", nlohmann::json::array()), "pipeline.after_steps");
    s.output_names = j.at("output_names").get<std::vector<std::string>>();
    const std::int64_t width = s.after.empty() ? s.concat_width : s.after.back().width_out;
    if (static_cast<std::int64_t>(s.output_names.size()) != width)
      throw InputError("output names do not match the output width");
    s.notes = j.value("notes", std::vector<std::string>{});
    s.fitted = true;
    return p;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(where + "malformed: " + e.what());
  } catch (const InputError& e) {
    throw InputError(where + e.what());
  }
}

nlohmann::json Pipeline::summary() const {
  const State& s = *state_;
  nlohmann::json out = {{"spec", s.spec.to_json()}, {"fitted", s.fitted}};
  if (!s.fitted) return out;
  nlohmann::json inputs = nlohmann::json::array();
  for (const auto& [name, type] : s.inputs)
    inputs.push_back({{"name", name}, {"type", to_string(type)}});
  nlohmann::json branches = nlohmann::json::array();
  for (const FittedBranch& b : s.branches) {
    nlohmann::json columns = nlohmann::json::array();
    for (const FittedColumn& c : b.columns) columns.push_back(c.name);
    branches.push_back(
        {{"name", b.name}, {"columns", columns}, {"n_outputs", b.width}, {"steps", b.steps}});
  }
  out["inputs"] = inputs;
  out["branches"] = branches;
  out["after"] = s.after_steps;
  out["n_outputs"] = n_outputs();
  out["output_names"] = s.output_names;
  out["notes"] = s.notes;
  return out;
}

}  // namespace tabula
