// predict / transform over a whole CSV file.
#include "tabula/batch_predict.hpp"

#include <fmt/format.h>

#include <cmath>

#include "artifact/atomic_file.hpp"
#include "tabula/error.hpp"
#include "tabula/io/csv.hpp"
#include "tabula/model_file.hpp"

namespace tabula {
namespace {

/// RFC 4180 quoting when a field needs it.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

/// Shortest text that reads back to the same double; "nan" for NaN.
std::string number(double v) { return std::isnan(v) ? "nan" : fmt::format("{}", v); }

std::string header_line(const std::vector<std::string>& columns) {
  std::string line;
  for (std::size_t j = 0; j < columns.size(); ++j) {
    if (j) line += ',';
    line += csv_field(columns[j]);
  }
  return line + "\n";
}

struct Inputs {
  LoadedModel model;
  std::vector<float> x;
  std::int64_t rows = 0;
  std::vector<std::string> notes;
};

Inputs read_inputs(LoadedModel model, const std::string& data_path) {
  Inputs in{std::move(model), {}, 0, {}};
  const Dataset data = io::read_csv(data_path);
  std::vector<std::string> ignored;
  in.x = schema_matrix(in.model.schema, data, &ignored);
  in.rows = data.rows();
  if (!ignored.empty()) {
    std::string list;
    for (const std::string& c : ignored) list += (list.empty() ? "'" : ", '") + c + "'";
    in.notes.push_back("ignored " + std::to_string(ignored.size()) +
                       " column(s) the model does not use: " + list);
  }
  return in;
}

MatrixView<const float> view(const Inputs& in) {
  return MatrixView<const float>::row_major(
      in.x.data(), in.rows, static_cast<std::int64_t>(in.model.schema.features.size()));
}

}  // namespace

BatchResult predict_file(Backend& backend, const std::string& model_path,
                         const std::string& data_path, const std::string& out_path, bool proba) {
  LoadedModel loaded = load_model(model_path);
  const Task task = loaded.estimator->task();
  if (task == Task::kTransform)
    throw InputError("model file '" + model_path + "' holds a " + loaded.estimator->name() +
                     " model, which transforms data: use `tabula transform`");
  if (proba && task != Task::kClassification)
    throw InputError("--proba needs a classifier; model file '" + model_path + "' holds a " +
                     loaded.estimator->name() + " regression model");

  Inputs in = read_inputs(std::move(loaded), data_path);
  const Estimator& model = *in.model.estimator;
  const ModelSchema& schema = in.model.schema;
  BatchResult result;
  result.rows = in.rows;
  result.notes = in.notes;
  std::string out;
  if (proba) {
    const std::vector<double> p = model.predict_proba(backend, view(in));
    const std::size_t k = schema.class_labels.size();
    if (p.size() != static_cast<std::size_t>(in.rows) * k)
      throw Error("model '" + model.name() + "' returned probabilities of the wrong shape");
    for (const std::string& label : schema.class_labels) result.columns.push_back("proba_" + label);
    out = header_line(result.columns);
    for (std::int64_t i = 0; i < in.rows; ++i) {
      for (std::size_t j = 0; j < k; ++j) {
        if (j) out += ',';
        out += number(p[static_cast<std::size_t>(i) * k + j]);
      }
      out += '\n';
    }
  } else {
    const std::vector<double> pred = model.predict(backend, view(in));
    if (pred.size() != static_cast<std::size_t>(in.rows))
      throw Error("model '" + model.name() + "' returned the wrong number of predictions");
    result.columns = {"prediction"};
    out = header_line(result.columns);
    const bool classify = model.task() == Task::kClassification;
    for (double v : pred) {
      if (classify) {
        const auto c = static_cast<std::size_t>(v);
        if (!(v >= 0) || c >= schema.class_labels.size())
          throw Error("model '" + model.name() + "' predicted class index " + number(v) +
                      " outside its " + std::to_string(schema.class_labels.size()) + " classes");
        out += csv_field(schema.class_labels[c]);
      } else {
        out += number(v);
      }
      out += '\n';
    }
  }
  detail::write_file_atomically(out_path, out);
  return result;
}

BatchResult transform_file(Backend& backend, const std::string& model_path,
                           const std::string& data_path, const std::string& out_path) {
  LoadedModel loaded = load_model(model_path);
  if (loaded.estimator->task() != Task::kTransform)
    throw InputError("model file '" + model_path + "' holds a " + loaded.estimator->name() + " " +
                     std::string(to_string(loaded.estimator->task())) +
                     " model, which does not transform data: use `tabula predict`");
  Inputs in = read_inputs(std::move(loaded), data_path);
  const Estimator& model = *in.model.estimator;
  const std::vector<double> z = model.transform(backend, view(in));
  const auto k = static_cast<std::size_t>(model.n_outputs());
  if (z.size() != static_cast<std::size_t>(in.rows) * k)
    throw Error("model '" + model.name() + "' returned a transform of the wrong shape");
  BatchResult result;
  result.rows = in.rows;
  result.notes = in.notes;
  for (std::size_t j = 0; j < k; ++j) result.columns.push_back("pc" + std::to_string(j + 1));
  std::string out = header_line(result.columns);
  for (std::int64_t i = 0; i < in.rows; ++i) {
    for (std::size_t j = 0; j < k; ++j) {
      if (j) out += ',';
      out += number(z[static_cast<std::size_t>(i) * k + j]);
    }
    out += '\n';
  }
  detail::write_file_atomically(out_path, out);
  return result;
}

}  // namespace tabula
