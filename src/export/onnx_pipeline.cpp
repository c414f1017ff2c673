// The pipeline section of a model file (docs/artifact-format.md) as ONNX nodes, following the
// format's own recipe: per column an encoding (a lookup table for text, indexed through
// LabelEncoder) and its maps, per branch its ops, then the concatenation and the after ops, in
// float64 as tabula computes them, cast to float32 at the end.
#include <cmath>
#include <limits>
#include <vector>

#include "export/onnx_parts.hpp"

namespace tabula::onnx_export {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// x -> NaN ? fill : scale * x + shift, per column of a [N, w] block (flat: w x {fill, scale,
// shift}); nothing when every map is the identity.
std::string apply_maps(Graph& g, const std::string& x, const std::vector<double>& flat) {
  const auto w = static_cast<std::int64_t>(flat.size() / 3);
  std::vector<double> fill, scale, shift;
  bool identity = true;
  for (std::int64_t k = 0; k < w; ++k) {
    fill.push_back(flat[k * 3]);
    scale.push_back(flat[k * 3 + 1]);
    shift.push_back(flat[k * 3 + 2]);
    identity = identity && std::isnan(fill.back()) && scale.back() == 1.0 && shift.back() == 0.0;
  }
  if (identity) return x;
  const std::string mapped = g.node("Add", {g.node("Mul", {x, g.constant("scale", scale, {1, w})}),
                                            g.constant("shift", shift, {1, w})});
  return g.node("Where", {g.node("IsNaN", {x}), g.constant("fill", fill, {1, w}), mapped});
}

std::string apply_ops(Graph& g, const ArtifactReader& in, const std::string& prefix,
                      const nlohmann::json& ops, std::string x) {
  for (std::size_t k = 0; k < ops.size(); ++k) {
    const std::string name = prefix + ".op" + std::to_string(k);
    if (ops[k].at("kind") == "maps") {
      x = apply_maps(g, x, in.doubles(name + ".maps"));
      continue;
    }
    x = project(g, x, in.doubles(name + ".mean"), in.doubles(name + ".components"),
                in.doubles(name + ".scale"), ops[k].at("width_in").get<std::int64_t>(),
                ops[k].at("width_out").get<std::int64_t>());
  }
  return x;
}

// A text column's outputs: LabelEncoder gives each category its row of a table (row m for a
// missing value, "", row m + 1 for any other text), and the table holds the encoder's outputs.
std::string encode_text(Graph& g, const ArtifactReader& in, const nlohmann::json& column,
                        const std::string& value) {
  const nlohmann::json& e = column.at("encoder");
  const std::string name = column.at("name").get<std::string>();
  const std::string kind = e.at("kind").get<std::string>();
  if (kind == "date")
    refuse(in, "column '" + name +
                   "' is read as a date, and ONNX cannot parse dates; export "
                   "a model trained without DateFeatures (--date-columns none) instead");
  const std::string unknown = e.at("handle_unknown").get<std::string>();
  if (unknown == "error")
    refuse(in, "column '" + name +
                   "' refuses unknown categories (handle_unknown=error), which "
                   "an ONNX graph cannot do; train with --handle-unknown ignore");
  const auto categories = e.at("categories").get<std::vector<std::string>>();
  const auto slot = e.at("slot").get<std::vector<std::int64_t>>();
  const std::int64_t width = e.at("width").get<std::int64_t>();
  const auto m = static_cast<std::int64_t>(categories.size());
  std::int64_t fill = -1;  // the category a missing value becomes
  if (column.contains("fill")) {
    const std::string f = column.at("fill").get<std::string>();
    for (std::int64_t i = 0; i < m; ++i)
      if (categories[static_cast<std::size_t>(i)] == f) fill = i;
  }
  // Table rows: categories, then missing, then unknown; each `width` outputs.
  std::vector<double> table(static_cast<std::size_t>((m + 2) * width), 0.0);
  const auto put = [&](std::int64_t row, std::int64_t category) {
    double* out = table.data() + row * width;
    if (kind == "onehot") {
      if (category >= 0) out[slot[static_cast<std::size_t>(category)]] = 1.0;
    } else {
      out[0] = category >= 0 ? static_cast<double>(slot[static_cast<std::size_t>(category)]) : kNaN;
    }
  };
  for (std::int64_t i = 0; i < m; ++i) put(i, i);
  put(m, fill);
  if (kind == "onehot") {
    const std::int64_t infrequent = e.at("infrequent_slot").get<std::int64_t>();
    if (unknown == "infrequent_if_exist" && infrequent >= 0)
      table[static_cast<std::size_t>((m + 1) * width + infrequent)] = 1.0;
  } else {
    table[static_cast<std::size_t>(m + 1)] =
        e.at("unknown_value").is_null() ? kNaN : e.at("unknown_value").get<double>();
  }
  std::vector<std::string> keys = categories;
  keys.push_back("");
  std::vector<std::int64_t> rows(static_cast<std::size_t>(m + 1));
  for (std::int64_t i = 0; i <= m; ++i) rows[static_cast<std::size_t>(i)] = i;
  const std::string row =
      g.node("LabelEncoder", {value},
             {Attribute::of("keys_strings", keys), Attribute::of("values_int64s", rows),
              Attribute::of("default_int64", m + 1)},
             kMlDomain);
  const std::string gathered =
      g.node("Gather", {g.constant("encoding", table, {m + 2, width}), row});  // [N, 1, width]
  return g.node("Reshape",
                {gathered, g.constant("shape", std::vector<std::int64_t>{-1, width}, {2})});
}

// A branch over input "X" (every column numeric): its columns taken at once (none taken when
// they are X as it is) and their maps applied as one.
std::string numeric_block(Graph& g, const ArtifactReader& in, const nlohmann::json& branch,
                          std::size_t inputs) {
  std::vector<std::int64_t> picked;
  std::vector<double> maps;
  for (const nlohmann::json& c : branch.at("columns")) {
    picked.push_back(c.at("input").get<std::int64_t>());
    const std::vector<double> m = in.doubles(c.at("maps").get<std::string>());
    maps.insert(maps.end(), m.begin(), m.end());
  }
  bool whole = picked.size() == inputs;
  for (std::size_t i = 0; i < picked.size(); ++i)
    whole = whole && picked[i] == static_cast<std::int64_t>(i);
  const auto n = static_cast<std::int64_t>(picked.size());
  const std::string block = whole ? std::string("X")
                                  : g.node("Gather", {"X", g.constant("columns", picked, {n})},
                                           {Attribute::of("axis", std::int64_t{1})});
  return apply_maps(g, block, maps);
}

// A branch over one input per column: each column encoded and mapped, then side by side.
std::string column_block(Graph& g, const ArtifactReader& in, const nlohmann::json& branch,
                         const std::vector<std::string>& column) {
  std::vector<std::string> parts;
  for (const nlohmann::json& c : branch.at("columns")) {
    const std::string& value = column.at(c.at("input").get<std::size_t>());
    const std::string encoded = c.at("type") == "numeric" ? value : encode_text(g, in, c, value);
    parts.push_back(apply_maps(g, encoded, in.doubles(c.at("maps").get<std::string>())));
  }
  return g.concat(parts);
}

}  // namespace

std::vector<double> transposed(const std::vector<double>& values, std::int64_t rows,
                               std::int64_t cols) {
  std::vector<double> out(values.size());
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) out[c * rows + r] = values[r * cols + c];
  return out;
}

std::string project(Graph& g, const std::string& x, const std::vector<double>& mean,
                    const std::vector<double>& components, const std::vector<double>& scale,
                    std::int64_t d, std::int64_t k) {
  const std::string centred = g.node("Sub", {x, g.constant("mean", mean, {1, d})});
  const std::string projected =
      g.node("MatMul", {centred, g.constant("components", transposed(components, k, d), {d, k})});
  if (scale.empty()) return projected;
  return g.node("Mul", {projected, g.constant("scale", scale, {1, k})});
}

std::string emit_pipeline(Graph& g, const ArtifactReader& in, std::int64_t& width) {
  const nlohmann::json& h = in.header();
  // Files written before pipelines: a numeric passthrough of schema.features.
  nlohmann::json inputs =
      h.contains("pipeline") ? h.at("pipeline").at("inputs") : h.at("schema").at("features");
  bool all_numeric = true;
  for (const auto& c : inputs) all_numeric = all_numeric && c.at("type") == "numeric";
  std::vector<std::string> column(inputs.size());
  nlohmann::json names = nlohmann::json::array();
  for (const auto& c : inputs) names.push_back(c.at("name"));
  g.metadata("tabula.input_columns", names.dump());
  if (all_numeric) {
    g.input("X", onnx::TensorProto::DOUBLE, static_cast<std::int64_t>(inputs.size()));
  } else {
    for (std::size_t c = 0; c < inputs.size(); ++c) {
      column[c] = inputs[c].at("name").get<std::string>();
      g.input(
          column[c],
          inputs[c].at("type") == "numeric" ? onnx::TensorProto::DOUBLE : onnx::TensorProto::STRING,
          1);
    }
  }
  if (!h.contains("pipeline")) {
    if (!all_numeric) refuse(in, "a file without a pipeline has text columns in its schema");
    width = static_cast<std::int64_t>(inputs.size());
    return g.cast("X", onnx::TensorProto::FLOAT);  // every column numeric, in order
  }
  const nlohmann::json& p = h.at("pipeline");
  std::vector<std::string> blocks;
  for (std::size_t b = 0; b < p.at("branches").size(); ++b) {
    const nlohmann::json& branch = p.at("branches")[b];
    if (branch.at("columns").empty()) continue;
    const std::string block = all_numeric ? numeric_block(g, in, branch, inputs.size())
                                          : column_block(g, in, branch, column);
    blocks.push_back(apply_ops(g, in, "pipeline.b" + std::to_string(b), branch.at("ops"), block));
  }
  if (blocks.empty()) refuse(in, "the pipeline has no output columns");
  std::string x = g.concat(blocks);
  x = apply_ops(g, in, "pipeline.after", p.at("after"), x);
  width = static_cast<std::int64_t>(p.at("output_names").size());
  return g.cast(x, onnx::TensorProto::FLOAT);
}

}  // namespace tabula::onnx_export
