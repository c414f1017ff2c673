// Saving and loading fitted models with their schema and training metadata.
#include "tabula/artifact/model_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include "artifact/validate.hpp"
#include "tabula/artifact/artifact.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"

namespace tabula {
namespace {

nlohmann::json schema_to_json(const ModelSchema& schema) {
  nlohmann::json features = nlohmann::json::array();
  for (const FeatureSpec& f : schema.features)
    features.push_back({{"name", f.name}, {"type", to_string(f.type)}});
  nlohmann::json out = {{"features", features}};
  if (!schema.target.empty())
    out["target"] = {{"name", schema.target}, {"type", to_string(schema.target_type)}};
  if (!schema.id_column.empty()) out["id_column"] = schema.id_column;
  return out;
}

/// A crafted file's id column must still be a name the CSV readers could have given: short, not
/// empty, and neither a feature nor the target (predict copies it and never reads it as one).
void read_id_column(const nlohmann::json& j, ModelSchema& schema) {
  constexpr std::size_t kMaxNameBytes = 4096;
  const std::string name = j.get<std::string>();
  if (name.empty() || name.size() > kMaxNameBytes)
    throw InputError("schema.id_column must be a column name of 1 to 4096 bytes");
  const bool feature = std::any_of(schema.features.begin(), schema.features.end(),
                                   [&](const FeatureSpec& f) { return f.name == name; });
  if (feature || name == schema.target)
    throw InputError("schema.id_column '" + name + "' is also a feature or the target");
  schema.id_column = name;
}

ColumnType parse_column_type(const nlohmann::json& j) {
  const std::string text = j.get<std::string>();
  if (text == "numeric") return ColumnType::kNumeric;
  if (text == "categorical") return ColumnType::kCategorical;
  throw InputError("unknown column type '" + text + "'");
}

// A numeric label's text without the leading '+' the CSV reader accepts ("+3" is 3).
std::string_view unsigned_text(const std::string& label) {
  std::string_view text = label;
  if (text.size() > 1 && text.front() == '+' && text[1] != '-') text.remove_prefix(1);
  return text;
}

std::optional<std::int64_t> as_integer(const std::string& label) {
  const std::string_view text = unsigned_text(label);
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

/// `classes`: the labels as typed JSON values; `class_labels`: their spelling in the training
/// file, which `classes` alone cannot keep ("1.0" and "1.00" are both the number 1.0).
void labels_from_json(const nlohmann::json& classes, const nlohmann::json* spelt,
                      ModelSchema& schema) {
  if (!classes.is_array()) throw InputError("'classes' is not an array");
  if (spelt && (!spelt->is_array() || spelt->size() != classes.size()))
    throw InputError("'class_labels' is not an array as long as 'classes'");
  std::size_t numbers = 0;
  for (std::size_t c = 0; c < classes.size(); ++c) {
    const nlohmann::json& label = classes[c];
    if (!label.is_number() && !label.is_string())
      throw InputError("class " + std::to_string(c) + " is neither a number nor text");
    numbers += label.is_number() ? 1 : 0;
    if (spelt) {
      if (!(*spelt)[c].is_string())
        throw InputError("class_labels[" + std::to_string(c) + "] is not text");
      schema.class_labels.push_back((*spelt)[c].get<std::string>());
    } else  // files written before class_labels: integers or text
      schema.class_labels.push_back(label.is_string() ? label.get<std::string>() : label.dump());
  }
  if (numbers != 0 && numbers != classes.size())
    throw InputError("'classes' mixes numbers and text");
  schema.numeric_labels = numbers == classes.size();
  for (std::size_t c = 0; c < classes.size(); ++c)
    if (schema.label_json(c) != classes[c])
      throw InputError("class label '" + schema.class_labels[c] + "' does not spell class " +
                       classes[c].dump());
}

}  // namespace

nlohmann::json ModelSchema::label_json(std::size_t c) const {
  const std::string& label = class_labels.at(c);
  if (!numeric_labels) return label;
  if (const std::optional<std::int64_t> v = as_integer(label)) return *v;
  const std::string_view text = unsigned_text(label);
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size())
    throw InputError("class label '" + label + "' is not a number");
  return v;
}

bool ModelSchema::integer_labels() const {
  if (!numeric_labels) return false;
  for (const std::string& label : class_labels)
    if (!as_integer(label)) return false;
  return true;
}

void save_model(const std::string& path, const Estimator& estimator, const Pipeline& pipeline,
                const ModelSchema& schema, const nlohmann::json& training,
                const monitoring::DriftProfile* profile) {
  ArtifactWriter out;
  estimator.save(out);
  pipeline.save(out);
  out.set("model", {{"kind", estimator.name()},
                    {"task", to_string(estimator.task())},
                    {"params", estimator.params()}});
  out.set("schema", schema_to_json(schema));
  if (estimator.task() == Task::kClassification) {
    nlohmann::json classes = nlohmann::json::array();
    for (std::size_t c = 0; c < schema.class_labels.size(); ++c)
      classes.push_back(schema.label_json(c));
    out.set("classes", classes);
    out.set("class_labels", schema.class_labels);
  }
  out.set("training", training);
  if (profile) monitoring::save_profile(*profile, out);
  out.write(path);
}

namespace {

/// Files written before pipelines: their numeric features went to the estimator as they were.
Pipeline passthrough_for(Backend& backend, const ModelSchema& schema) {
  Dataset shape;
  shape.source = "model schema";
  for (const FeatureSpec& f : schema.features) {
    if (f.type != ColumnType::kNumeric)
      throw InputError("feature '" + f.name + "' is categorical but the file has no pipeline");
    Column c;
    c.name = f.name;
    c.numeric = {0.0};
    shape.columns.push_back(std::move(c));
  }
  Pipeline p(PipelineSpec::passthrough());
  p.fit(backend, shape);
  return p;
}

}  // namespace

std::vector<float> LoadedModel::features(Backend& backend, const Dataset& data,
                                         std::vector<RowError>* errors,
                                         std::vector<std::string>* ignored) const {
  TABULA_ASSERT(pipeline != nullptr, "model has no pipeline");
  if (ignored) {
    for (const Column& c : data.columns) {
      bool used = false;
      for (const auto& [name, type] : pipeline->input_columns()) used = used || name == c.name;
      if (!used) ignored->push_back(c.name);
    }
  }
  return pipeline->transform(backend, data, {}, errors);
}

LoadedModel load_model(const std::string& path) {
  ArtifactReader reader(path);
  const nlohmann::json& h = reader.header();
  const std::string where = "model file '" + path + "'";
  LoadedModel model;
  model.path = path;
  try {
    const std::string kind = h.at("model").at("kind").get<std::string>();
    const Task task = parse_task(h.at("model").at("task").get<std::string>());
    for (const auto& f : h.at("schema").at("features"))
      model.schema.features.push_back(
          {f.at("name").get<std::string>(), parse_column_type(f.at("type"))});
    if (h.at("schema").contains("target")) {
      model.schema.target = h["schema"]["target"].at("name").get<std::string>();
      model.schema.target_type = parse_column_type(h["schema"]["target"].at("type"));
    }
    if (h.at("schema").contains("id_column"))
      read_id_column(h["schema"]["id_column"], model.schema);
    if (task == Task::kClassification)
      labels_from_json(h.at("classes"), h.contains("class_labels") ? &h["class_labels"] : nullptr,
                       model.schema);
    // Estimators restore their own parameters and fitted state from the file.
    model.estimator = make_estimator(kind, {}, task);
    model.estimator->load(reader);
    if (model.estimator->task() != task)
      throw InputError("the " + kind + " model says its task is " + std::string(to_string(task)));
    if (h.contains("pipeline")) {
      model.pipeline = std::make_unique<Pipeline>(Pipeline::load(reader));
    } else {
      // Fitting a passthrough reads no statistic, so the CPU backend is only a formality.
      model.pipeline = std::make_unique<Pipeline>(
          passthrough_for(DeviceRegistry::instance().backend(Device::cpu()), model.schema));
    }
    artifact::validate_model(model, h);
    model.profile = monitoring::load_profile(reader, model.schema, *model.estimator);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(where + " has a malformed header: " + e.what());
  } catch (const InputError& e) {
    throw InputError(where + ": " + e.what());
  }
  model.header = h;
  return model;
}

std::vector<float> schema_matrix(const ModelSchema& schema, const Dataset& data,
                                 std::vector<std::string>* ignored) {
  std::vector<std::string> missing;
  std::vector<const Column*> columns;
  for (const FeatureSpec& f : schema.features) {
    const auto index = data.find(f.name);
    if (!index) {
      missing.push_back(f.name);
      continue;
    }
    const Column& column = data.columns[static_cast<std::size_t>(*index)];
    if (column.type != f.type) {
      std::string example;
      for (const std::string& value : column.categories) {  // the first value that is text
        double parsed;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
        if (ec != std::errc() || end != value.data() + value.size()) {
          example = " (e.g. '" + value + "')";
          break;
        }
      }
      throw InputError(
          data.source + ": column '" + f.name + "' is " + std::string(to_string(column.type)) +
          example + " but the model was trained on " + std::string(to_string(f.type)) + " values");
    }
    columns.push_back(&column);
  }
  if (!missing.empty()) {
    std::string list;
    for (const std::string& m : missing) list += (list.empty() ? "'" : ", '") + m + "'";
    throw InputError(data.source + ": missing " + std::to_string(missing.size()) +
                     " column(s) the model needs: " + list);
  }
  if (ignored) {
    for (const Column& c : data.columns) {
      bool used = false;
      for (const FeatureSpec& f : schema.features) used = used || f.name == c.name;
      if (!used) ignored->push_back(c.name);
    }
  }
  const std::int64_t rows = data.rows();
  const std::size_t d = columns.size();
  std::vector<float> x(static_cast<std::size_t>(rows) * d);
  for (std::size_t j = 0; j < d; ++j) {
    const Column& c = *columns[j];
    if (c.type != ColumnType::kNumeric)
      throw InputError(data.source + ": column '" + c.name +
                       "' is categorical; this model needs numeric features (encoders come with "
                       "pipelines)");
    for (std::int64_t i = 0; i < rows; ++i)
      x[static_cast<std::size_t>(i) * d + j] =
          static_cast<float>(c.numeric[static_cast<std::size_t>(i)]);
  }
  return x;
}

namespace {

/// describe_model of a loaded model; json exceptions for fields of the wrong type.
nlohmann::json describe_loaded(const LoadedModel& model, const nlohmann::json& h,
                               const std::string& path) {
  nlohmann::json out;
  out["file"] = path;
  out["format_version"] =
      h.value("format", nlohmann::json::object()).value("version", nlohmann::json(0));
  out["model"] = h.at("model");
  out["schema"] = h.at("schema");
  if (h.contains("classes")) {
    out["classes"] = h["classes"];
    out["class_labels"] = model.schema.class_labels;  // as spelt in the training file
  }
  out["training"] = h.value("training", nlohmann::json::object());
  out["fitted"] = model.estimator->summary();
  out["pipeline"] = model.pipeline->summary();
  // The estimator's input columns by name (`city=Paris`, ...), for per-feature attributes.
  out["feature_names_out"] = model.pipeline->output_names();
  nlohmann::json arrays = nlohmann::json::object();
  for (const auto& [name, entry] : h.at("arrays").items())
    arrays[name] = {{"dtype", entry.at("dtype")}, {"shape", entry.at("shape")}};
  out["arrays"] = arrays;
  return out;
}

}  // namespace

nlohmann::json describe_model(const std::string& path) {
  LoadedModel model = load_model(path);
  const nlohmann::json& h = model.header;
  try {
    return describe_loaded(model, h, path);
  } catch (const nlohmann::json::exception& e) {
    throw InputError("model file '" + path + "' has a malformed header: " + e.what());
  }
}

namespace {

std::string scalar(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return fmt::format("{:.6g}", v.get<double>());
  return v.dump();
}

// ranked_feature_values as text, for `inspect`; empty when the model has neither attribute.
std::string named_feature_values(const nlohmann::json& d) {
  const nlohmann::json names = d.value("feature_names_out", nlohmann::json::array());
  const nlohmann::json ranked =
      ranked_feature_values(d.at("fitted"), names.get<std::vector<std::string>>(), kTopFeatures);
  std::string out;
  for (const auto& [key, list] : ranked.items()) {
    const std::size_t total = list.at("n_features").get<std::size_t>();
    out += fmt::format(
        "{} by feature{}:\n", key,
        total > kTopFeatures ? fmt::format(" (top {} of {})", kTopFeatures, total) : std::string());
    for (const auto& entry : list.at("top"))
      out += fmt::format("  {:<36} {:>12}\n", entry.at("feature").get<std::string>(),
                         scalar(entry.at("value")));
  }
  return out;
}

// The fitted pipeline's branches, one line each, with the steps after them and its notes.
std::string pipeline_text(const nlohmann::json& p) {
  std::string out;
  auto steps_text = [](const nlohmann::json& steps) {
    std::string text;
    for (const auto& st : steps) {
      std::string params;
      for (const auto& [k, v] : st.at("params").items())
        params += (params.empty() ? "" : ", ") + k + "=" + scalar(v);
      text += (text.empty() ? "" : " > ") + st.at("kind").get<std::string>() +
              (params.empty() ? "" : "(" + params + ")");
    }
    return text.empty() ? std::string("passthrough") : text;
  };
  out += fmt::format("pipeline:   {} outputs\n", p.at("n_outputs").dump());
  for (const auto& b : p.at("branches")) {
    std::string columns;
    for (const auto& c : b.at("columns")) columns += (columns.empty() ? "" : ", ") + scalar(c);
    out += fmt::format("  {:<12} [{}] {} -> {}\n", b.at("name").get<std::string>(), columns,
                       steps_text(b.at("steps")), b.at("n_outputs").dump());
  }
  if (!p.at("after").empty()) out += fmt::format("  after        {}\n", steps_text(p["after"]));
  for (const auto& note : p.at("notes")) out += fmt::format("  note: {}\n", scalar(note));
  return out;
}

}  // namespace

nlohmann::json ranked_feature_values(const nlohmann::json& fitted,
                                     const std::vector<std::string>& names, std::size_t limit) {
  nlohmann::json out = nlohmann::json::object();
  for (const char* key : {"feature_importances_", "coef_"}) {
    nlohmann::json values = fitted.value(key, nlohmann::json());
    if (values.is_array() && values.size() == 1 && values[0].is_array())
      values = nlohmann::json(values[0]);  // one row of coefficients (binary, one target)
    if (!values.is_array() || values.size() != names.size() || names.empty() ||
        !std::all_of(values.begin(), values.end(), [](const auto& v) { return v.is_number(); }))
      continue;
    std::vector<std::size_t> order(values.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return std::fabs(values[a].get<double>()) > std::fabs(values[b].get<double>());
    });
    nlohmann::json top = nlohmann::json::array();
    for (std::size_t r = 0; r < std::min(limit, order.size()); ++r)
      top.push_back({{"feature", names[order[r]]}, {"value", values[order[r]]}});
    out[key] = {{"n_features", values.size()}, {"top", std::move(top)}};
  }
  return out;
}

std::string format_model_description(const nlohmann::json& d) {
  std::string out;
  const nlohmann::json& model = d.at("model");
  out += fmt::format("file:       {}\n", d.at("file").get<std::string>());
  out += fmt::format("format:     tabula artifact v{}\n", d.at("format_version").dump());
  out += fmt::format("model:      {} ({})\n", model.at("kind").get<std::string>(),
                     model.at("task").get<std::string>());
  std::string params;
  for (const auto& [k, v] : model.at("params").items())
    params += (params.empty() ? "" : ", ") + k + "=" + scalar(v);
  out += fmt::format("params:     {}\n", params.empty() ? "(none)" : params);
  const nlohmann::json& schema = d.at("schema");
  out += fmt::format("features:   {}\n", schema.at("features").size());
  for (const auto& f : schema.at("features"))
    out += fmt::format("  {:<30} {}\n", f.at("name").get<std::string>(),
                       f.at("type").get<std::string>());
  if (schema.contains("target"))
    out += fmt::format("target:     {} ({})\n", schema["target"].at("name").get<std::string>(),
                       schema["target"].at("type").get<std::string>());
  if (schema.contains("id_column"))
    out += fmt::format("id column:  {} (copied to prediction output)\n",
                       schema["id_column"].get<std::string>());
  if (d.contains("class_labels")) {
    std::string classes;
    for (const auto& c : d["class_labels"]) classes += (classes.empty() ? "" : ", ") + scalar(c);
    out += fmt::format("classes:    {}\n", classes);
  }
  if (d.contains("pipeline") && d["pipeline"].value("fitted", false))
    out += pipeline_text(d["pipeline"]);
  const nlohmann::json& t = d.at("training");
  if (!t.empty()) {
    out += "training:\n";
    for (const auto& [k, v] : t.items())
      if (!v.is_object()) out += fmt::format("  {:<20} {}\n", k, scalar(v));
    if (t.contains("metrics") && t["metrics"].is_object()) {
      const nlohmann::json& m = t["metrics"];
      out += fmt::format("test metrics: {:<24} {:>12} {:>12}\n", "", "model", "baseline");
      const nlohmann::json model_metrics = m.value("model", nlohmann::json::object());
      const nlohmann::json baseline_metrics = m.value("baseline", nlohmann::json::object());
      for (const auto& [name, value] : model_metrics.items()) {
        const nlohmann::json base = baseline_metrics.value(name, nlohmann::json());
        out += fmt::format("  {:<36} {:>12} {:>12}\n", name, scalar(value),
                           base.is_null() ? "-" : scalar(base));
      }
    }
  }
  out += "fitted:\n";
  for (const auto& [k, v] : d.at("fitted").items()) {
    std::string text = v.is_string() ? v.get<std::string>() : v.dump();
    if (v.is_array() && !v.empty() && v[0].is_array())
      text = fmt::format("[{} x {} values]", v.size(), v[0].size());
    else if (v.is_array() && v.size() > 8)
      text = fmt::format("[{} values]", v.size());
    out += fmt::format("  {:<20} {}\n", k, text);
  }
  out += named_feature_values(d);
  out += "arrays:\n";
  for (const auto& [name, a] : d.at("arrays").items())
    out += fmt::format("  {:<20} {} {}\n", name, a.at("dtype").get<std::string>(),
                       a.at("shape").dump());
  return out;
}

}  // namespace tabula
