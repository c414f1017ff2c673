// tabula._core: the library behind the Python estimators (python/tabula/). One class, Model: a
// registered estimator with the pipeline and schema that make it an artifact. Rows come in as a
// float32 C-order matrix, read in place, or as named columns (numbers, or category codes with
// their categories) for tabula's own pipeline. Every call into the library releases the GIL.
// Input checks in scikit-learn's style (shapes, NaN, fitted or not) are the Python side's; the
// library's own errors arrive as ValueError (InputError) or RuntimeError.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/variant.h>
#include <nanobind/stl/vector.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "tabula/artifact/model_file.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"
#include "tabula/export/onnx.hpp"
#include "tabula/models/cluster/centroid_model.hpp"
#include "tabula/models/registry.hpp"
#include "tabula/monitoring/profile.hpp"
#include "tabula/pipeline/pipeline.hpp"
#include "tabula/selection/tuning.hpp"
#include "tabula/version.hpp"

namespace nb = nanobind;

namespace tabula::python {
namespace {

using Matrix = nb::ndarray<const float, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using Vector = nb::ndarray<const double, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using Codes = nb::ndarray<const std::int32_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
/// A column as Python hands it: numbers (NaN missing), or codes (-1 missing) and categories.
using ColumnValues = std::variant<Vector, std::pair<Codes, std::vector<std::string>>>;
using NamedColumn = std::pair<std::string, ColumnValues>;

nb::ndarray<nb::numpy, double> to_numpy(std::vector<double> values,
                                        std::vector<std::size_t> shape) {
  auto* owned = new std::vector<double>(std::move(values));
  nb::capsule free(owned, [](void* p) noexcept { delete static_cast<std::vector<double>*>(p); });
  return nb::ndarray<nb::numpy, double>(owned->data(), shape.size(), shape.data(), free);
}

MatrixView<const float> view(const Matrix& x) {
  return MatrixView<const float>::row_major(x.data(), static_cast<std::int64_t>(x.shape(0)),
                                            static_cast<std::int64_t>(x.shape(1)));
}

Dataset make_dataset(const std::vector<NamedColumn>& columns) {
  Dataset data;
  data.source = "DataFrame";
  for (const auto& [name, values] : columns) {
    Column column;
    column.name = name;
    if (const auto* numbers = std::get_if<Vector>(&values)) {
      column.numeric.assign(numbers->data(), numbers->data() + numbers->shape(0));
    } else {
      const auto& [codes, categories] = std::get<1>(values);
      column.type = ColumnType::kCategorical;
      column.categories = categories;
      const auto n_categories = static_cast<std::int32_t>(categories.size());
      for (std::size_t i = 0; i < codes.shape(0); ++i)
        if (codes.data()[i] < -1 || codes.data()[i] >= n_categories)
          throw InputError("column '" + name + "': category code " +
                           std::to_string(codes.data()[i]) + " out of range");
      column.codes.assign(codes.data(), codes.data() + codes.shape(0));
    }
    data.columns.push_back(std::move(column));
  }
  return data;
}

bool same_spec(const PipelineSpec& a, const PipelineSpec& b) { return a.to_json() == b.to_json(); }

/// The backend of `device` with the thread pool sized for n_jobs (<= 0: every core). The pool
/// is rebuilt only when the count changes: a one-row predict must not pay for it.
Backend& prepare_backend(const std::string& device, int n_jobs) {
  const int threads = n_jobs > 0 ? n_jobs : hardware_threads();
  if (thread_count() != threads) set_thread_count(threads);
  return DeviceRegistry::instance().backend(Device::parse(device));
}

/// A registered estimator with what makes it a model file: the pipeline its input goes through
/// (a passthrough over numbers for matrices) and the schema (column names, class labels).
class Model {
 public:
  Model(const std::string& name, const ParamMap& params, const std::string& task)
      : estimator_(make_estimator(name, params, parse_task(task))), params_(params) {}

  static Model load(const std::string& path) {
    LoadedModel loaded;
    {
      nb::gil_scoped_release release;
      loaded = load_model(path);
    }
    Model model;
    model.estimator_ = std::move(loaded.estimator);
    model.pipeline_ = std::move(loaded.pipeline);
    model.schema_ = std::move(loaded.schema);
    model.training_ = loaded.header.value("training", nlohmann::json::object());
    model.profile_ = std::move(loaded.profile);
    return model;
  }

  /// Fits on a matrix: the estimator reads the array in place; the model's pipeline is the
  /// passthrough over the named columns (what the artifact records for new data).
  void fit_matrix(const Matrix& x, std::optional<Vector> y, std::optional<Vector> weight,
                  int n_classes, std::uint64_t seed, const std::string& device, int n_jobs,
                  const std::vector<std::string>& names) {
    if (static_cast<std::size_t>(x.shape(1)) != names.size())
      throw InputError("fit: " + std::to_string(names.size()) + " column names for " +
                       std::to_string(x.shape(1)) + " columns");
    Dataset header;  // names only: a passthrough records the columns and fits nothing
    for (const std::string& name : names) header.columns.emplace_back().name = name;
    auto pipeline = std::make_unique<Pipeline>(PipelineSpec::passthrough());
    nb::gil_scoped_release release;
    Backend& backend = prepare_backend(device, n_jobs);
    pipeline->fit(backend, header);
    fit_estimator(backend, view(x), y, weight, n_classes, seed, names, {});
    pipeline_ = std::move(pipeline);
    record_schema();
    profile_fit(backend, sampled_rows(x, names));
  }

  /// One step of an incremental fit (partial_fit) on a matrix: the first call sets up the
  /// passthrough pipeline over the named columns as fit_matrix does; every call profiles its
  /// batch for drift monitoring and counts its rows.
  void partial_fit_matrix(const Matrix& x, std::optional<Vector> weight, std::uint64_t seed,
                          const std::string& device, int n_jobs,
                          const std::vector<std::string>& names) {
    if (static_cast<std::size_t>(x.shape(1)) != names.size())
      throw InputError("partial_fit: " + std::to_string(names.size()) + " column names for " +
                       std::to_string(x.shape(1)) + " columns");
    nb::gil_scoped_release release;
    Backend& backend = prepare_backend(device, n_jobs);
    FitData fit;
    fit.x = view(x);
    if (weight) fit.sample_weight = std::span<const double>(weight->data(), weight->shape(0));
    fit.seed = seed;
    estimator_->partial_fit(backend, fit);
    if (!pipeline_) {
      Dataset header;
      for (const std::string& name : names) header.columns.emplace_back().name = name;
      auto pipeline = std::make_unique<Pipeline>(PipelineSpec::passthrough());
      pipeline->fit(backend, header);
      pipeline_ = std::move(pipeline);
      training_ = {{"rows", 0},
                   {"seed", seed},
                   {"library_version", kVersion},
                   {"trained_by", "python partial_fit"},
                   {"device", backend.device().to_string()}};
      record_schema();
    }
    training_["rows"] = training_.value("rows", std::int64_t{0}) + x.shape(0);
    training_["rows_train"] = training_["rows"];
    profile_fit(backend, sampled_rows(x, names));
  }

  /// Fits on named columns through tabula's pipeline for this model kind (numbers passed
  /// through, text one-hot encoded, see PipelineSpec::defaults) with the scaling and imputation
  /// turned off, so numeric results match scikit-learn's estimator on the same numbers.
  void fit_columns(const std::vector<NamedColumn>& columns, std::optional<Vector> y,
                   std::optional<Vector> weight, int n_classes, std::uint64_t seed,
                   const std::string& device, int n_jobs) {
    const Dataset data = make_dataset(columns);
    PipelineOverrides plain;
    plain.impute = "none";
    plain.scale = "none";
    auto pipeline = std::make_unique<Pipeline>(
        apply_overrides(PipelineSpec::defaults(estimator_->name(), params_), plain));
    nb::gil_scoped_release release;
    Backend& backend = prepare_backend(device, n_jobs);
    pipeline->fit(backend, data);
    const std::vector<float> x = pipeline->transform(backend, data);
    fit_estimator(
        backend, MatrixView<const float>::row_major(x.data(), data.rows(), pipeline->n_outputs()),
        y, weight, n_classes, seed, pipeline->output_names(), pipeline->categorical_outputs());
    pipeline_ = std::move(pipeline);
    record_schema();
    profile_fit(backend, data);
  }

  /// "predict", "predict_proba" or "transform" of a matrix of the estimator's inputs.
  nb::ndarray<nb::numpy, double> apply_matrix(const std::string& method, const Matrix& x,
                                              const std::string& device, int n_jobs) const {
    std::vector<double> out;
    {
      nb::gil_scoped_release release;
      out = apply(prepare_backend(device, n_jobs), method, view(x));
    }
    return shaped(method, std::move(out), x.shape(0));
  }

  /// The same for named columns, encoded by the model's pipeline.
  nb::ndarray<nb::numpy, double> apply_columns(const std::string& method,
                                               const std::vector<NamedColumn>& columns,
                                               const std::string& device, int n_jobs) const {
    const Dataset data = make_dataset(columns);
    std::vector<double> out;
    {
      nb::gil_scoped_release release;
      Backend& backend = prepare_backend(device, n_jobs);
      const std::vector<float> x = pipeline_->transform(backend, data);
      out =
          apply(backend, method,
                MatrixView<const float>::row_major(x.data(), data.rows(), pipeline_->n_outputs()));
    }
    return shaped(method, std::move(out), static_cast<std::size_t>(data.rows()));
  }

  void save(const std::string& path, const std::string& target,
            const std::vector<std::string>& class_labels, bool numeric_labels) {
    schema_.target = target;
    schema_.class_labels = class_labels;
    schema_.numeric_labels = numeric_labels;
    schema_.target_type = numeric_labels ? ColumnType::kNumeric : ColumnType::kCategorical;
    nb::gil_scoped_release release;
    if (profile_ && !profiled_predictions_.empty())  // labelled now that the labels are known
      monitoring::add_prediction(*profile_, *estimator_, schema_, profiled_predictions_, false);
    save_model(path, *estimator_, *pipeline_, schema_, training_, profile_ ? &*profile_ : nullptr);
  }

  std::string name() const { return estimator_->name(); }
  std::string task() const { return std::string(to_string(estimator_->task())); }
  std::string params_json() const { return estimator_->params().dump(); }
  std::string summary_json() const { return estimator_->summary().dump(); }
  std::string training_json() const { return training_.dump(); }
  std::int64_t n_outputs() const { return estimator_->n_outputs(); }
  /// Whether matrices can be scored as they are: the pipeline passes numbers through.
  bool reads_matrices() const {
    return pipeline_ && same_spec(pipeline_->spec(), PipelineSpec::passthrough());
  }
  std::vector<std::pair<std::string, std::string>> input_columns() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const FeatureSpec& f : schema_.features) out.emplace_back(f.name, to_string(f.type));
    return out;
  }
  std::vector<std::string> feature_names_out() const {
    return pipeline_ ? pipeline_->output_names() : std::vector<std::string>{};
  }
  std::vector<std::string> class_labels() const { return schema_.class_labels; }
  bool numeric_labels() const { return schema_.numeric_labels; }
  std::string target() const { return schema_.target; }
  /// The training rows' clusters from the fit (a clustering just fitted), else None.
  std::optional<nb::ndarray<nb::numpy, std::int32_t>> training_labels() const {
    const auto* km = dynamic_cast<const CentroidModel*>(estimator_.get());
    if (km == nullptr || km->labels().empty()) return std::nullopt;
    auto* owned = new std::vector<std::int32_t>(km->labels());
    nb::capsule free(owned,
                     [](void* p) noexcept { delete static_cast<std::vector<std::int32_t>*>(p); });
    const std::size_t shape[1] = {owned->size()};
    return nb::ndarray<nb::numpy, std::int32_t>(owned->data(), 1, shape, free);
  }

 private:
  Model() = default;

  void fit_estimator(Backend& backend, MatrixView<const float> x, const std::optional<Vector>& y,
                     const std::optional<Vector>& weight, int n_classes, std::uint64_t seed,
                     const std::vector<std::string>& names,
                     const std::vector<std::uint8_t>& categorical) {
    FitData fit;
    fit.x = x;
    fit.feature_names = names;
    fit.categorical = categorical;
    if (y) fit.y = std::span<const double>(y->data(), y->shape(0));
    if (weight) fit.sample_weight = std::span<const double>(weight->data(), weight->shape(0));
    fit.n_classes = n_classes;
    fit.seed = seed;
    estimator_->fit(backend, fit);
    training_ = {{"rows", x.rows},         {"rows_train", x.rows},
                 {"seed", seed},           {"library_version", kVersion},
                 {"trained_by", "python"}, {"device", backend.device().to_string()}};
  }

  // A matrix's profiled rows (profile_sample of all of them) as numeric columns.
  static Dataset sampled_rows(const Matrix& x, const std::vector<std::string>& names) {
    std::vector<std::int64_t> all(x.shape(0));
    std::iota(all.begin(), all.end(), std::int64_t{0});
    const std::vector<std::int64_t> rows = monitoring::profile_sample(all);
    const MatrixView<const float> m = view(x);
    Dataset data;
    data.source = "array";
    data.columns.resize(names.size());
    for (std::size_t j = 0; j < names.size(); ++j) {
      data.columns[j].name = names[j];
      data.columns[j].numeric.resize(rows.size());
    }
    // Row by row, as the array lies: a pass per column read the whole array once per column.
    for (std::size_t i = 0; i < rows.size(); ++i)
      for (std::size_t j = 0; j < names.size(); ++j)
        data.columns[j].numeric[i] = static_cast<double>(m(rows[i], static_cast<std::int64_t>(j)));
    return data;
  }

  // What drift monitoring compares new data with (as `tabula train` stores it): the input
  // columns over a sample of the training rows and the model's predictions on them; the
  // predictions are labelled at save, where the class labels are named.
  void profile_fit(Backend& backend, const Dataset& data) {
    std::vector<std::int64_t> all(static_cast<std::size_t>(data.rows()));
    std::iota(all.begin(), all.end(), std::int64_t{0});
    profile_ = monitoring::profile_inputs(*pipeline_, data, all);
    profiled_predictions_ =
        monitoring::sample_predictions(backend, *pipeline_, *estimator_, data, all);
  }

  void record_schema() {
    schema_.features.clear();
    for (const auto& [name, type] : pipeline_->input_columns())
      schema_.features.push_back({name, type});
    training_["n_features_out"] = pipeline_->n_outputs();
  }

  std::vector<double> apply(Backend& backend, const std::string& method,
                            MatrixView<const float> x) const {
    if (method == "predict") return estimator_->predict(backend, x);
    if (method == "predict_proba") return estimator_->predict_proba(backend, x);
    if (method == "transform") return estimator_->transform(backend, x);
    throw InputError("unknown method '" + method + "'");
  }

  nb::ndarray<nb::numpy, double> shaped(const std::string& method, std::vector<double> out,
                                        std::size_t rows) const {
    if (method == "predict") return to_numpy(std::move(out), {rows});
    const std::size_t cols = rows == 0 ? 0 : out.size() / rows;
    return to_numpy(std::move(out), {rows, cols});
  }

  std::unique_ptr<Estimator> estimator_;
  ParamMap params_;  // as given: the default pipeline depends on some (categorical_features)
  std::unique_ptr<Pipeline> pipeline_;
  ModelSchema schema_;
  nlohmann::json training_ = nlohmann::json::object();
  std::optional<monitoring::DriftProfile> profile_;  // from the fit, or the loaded file
  std::vector<double> profiled_predictions_;         // the fit's, labelled at save
};

nlohmann::json trial_json(const TrialResult& trial, const std::vector<std::string>& metrics) {
  nlohmann::json out = {{"trial", trial.trial},
                        {"params", trial.params},
                        {"fit_seconds", trial.fit_seconds},
                        {"score_seconds", trial.score_seconds}};
  for (std::size_t m = 0; m < metrics.size(); ++m) {
    out["mean_test_" + metrics[m]] = trial.mean(m);
    out["std_test_" + metrics[m]] = trial.stdev(m);
  }
  return out;
}

/// The cross-validation driver of `tabula tune` on a data source (a file or SQL URL), the
/// result as JSON: the leaderboard (best first), the baseline, the refitted best model's path
/// and test score.
std::string run_tune(const std::string& data, const std::string& target, const std::string& model,
                     const std::vector<std::string>& space, const ParamMap& fixed,
                     const std::string& search, std::int64_t n_iter, const std::string& scheme,
                     int folds, const std::string& metric, const std::vector<std::string>& metrics,
                     double test_size, std::uint64_t seed, int jobs, const std::string& out_dir,
                     const std::string& device, int n_jobs) {
  TuneOptions options;
  options.data_path = data;
  options.target = target;
  options.model = model;
  options.space = space;
  options.fixed = fixed;
  if (search == "grid") {
    options.search = SearchKind::kGrid;
  } else if (search == "random") {
    options.search = SearchKind::kRandom;
  } else if (search == "halving") {
    options.search = SearchKind::kHalving;
  } else {
    throw InputError("search='" + search + "': expected grid, random or halving");
  }
  options.n_iter = n_iter;
  options.scheme = scheme;
  options.folds = folds;
  options.metric = metric;
  options.metrics = metrics;
  options.test_size = test_size;
  options.seed = seed;
  options.jobs = jobs;
  options.out_dir = out_dir;
  nb::gil_scoped_release release;
  const TuneResult result = tune(prepare_backend(device, n_jobs), options);
  nlohmann::json out = {{"task", to_string(result.task)},
                        {"metric_names", result.metric_names},
                        {"leaderboard", nlohmann::json::array()},
                        {"baseline", trial_json(result.baseline, result.metric_names)},
                        {"model_path", result.model_path},
                        {"test_metrics", result.test_metrics},
                        {"notes", result.notes},
                        {"stopped_by_budget", result.stopped_by_budget}};
  if (result.test_score) out["test_score"] = *result.test_score;
  for (const TrialResult& trial : result.leaderboard)
    out["leaderboard"].push_back(trial_json(trial, result.metric_names));
  return out.dump();
}

}  // namespace
}  // namespace tabula::python

NB_MODULE(_core, m) {
  using tabula::python::Model;
  m.doc() = "tabula's engine: fit, score, save and load registered models";
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const tabula::InputError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const tabula::Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
  m.attr("__version__") = tabula::kVersion;
  // A library inside a notebook speaks only of problems; set_log_level("info") shows the rest
  // (which device `auto` chose, ...).
  spdlog::set_level(spdlog::level::warn);
  m.def(
      "set_log_level",
      [](const std::string& level) {
        const spdlog::level::level_enum parsed = spdlog::level::from_str(level);
        if (parsed == spdlog::level::off && level != "off")
          throw tabula::InputError("unknown log level '" + level +
                                   "' (trace, debug, info, warn, error, critical, off)");
        spdlog::set_level(parsed);
      },
      nb::arg("level"), "Sets how much the engine logs: trace ... critical, off (default warn).");
  m.def("estimator_names", &tabula::estimator_names, "Registry names of the models.");
  m.def(
      "estimator_tasks",
      [](const std::string& name) {
        std::vector<std::string> out;
        for (tabula::Task t : tabula::estimator_tasks(name)) out.emplace_back(tabula::to_string(t));
        return out;
      },
      "The tasks a registered model does.");
  m.def("tune", &tabula::python::run_tune, nb::arg("data"), nb::arg("target"), nb::arg("model"),
        nb::arg("space"), nb::arg("params"), nb::arg("search"), nb::arg("n_iter"),
        nb::arg("scheme"), nb::arg("folds"), nb::arg("metric"), nb::arg("metrics"),
        nb::arg("test_size"), nb::arg("seed"), nb::arg("jobs"), nb::arg("out_dir"),
        nb::arg("device"), nb::arg("n_jobs"),
        "tabula tune's cross-validation driver; returns its result as JSON.");
  m.def(
      "export_onnx",
      [](const std::string& model_path, const std::string& out_path) {
        nb::gil_scoped_release release;
        tabula::export_onnx(model_path, out_path);
      },
      nb::arg("model_path"), nb::arg("out_path"),
      "Writes a model file as ONNX (tabula export --format onnx).");
  nb::class_<Model>(m, "Model")
      .def(nb::init<const std::string&, const tabula::ParamMap&, const std::string&>(),
           nb::arg("name"), nb::arg("params"), nb::arg("task"))
      .def_static("load", &Model::load, nb::arg("path"))
      .def("fit_matrix", &Model::fit_matrix, nb::arg("x"), nb::arg("y").none(),
           nb::arg("sample_weight").none(), nb::arg("n_classes"), nb::arg("seed"),
           nb::arg("device"), nb::arg("n_jobs"), nb::arg("names"))
      .def("partial_fit_matrix", &Model::partial_fit_matrix, nb::arg("x"),
           nb::arg("sample_weight").none(), nb::arg("seed"), nb::arg("device"), nb::arg("n_jobs"),
           nb::arg("names"))
      .def("fit_columns", &Model::fit_columns, nb::arg("columns"), nb::arg("y").none(),
           nb::arg("sample_weight").none(), nb::arg("n_classes"), nb::arg("seed"),
           nb::arg("device"), nb::arg("n_jobs"))
      .def("apply_matrix", &Model::apply_matrix, nb::arg("method"), nb::arg("x"), nb::arg("device"),
           nb::arg("n_jobs"))
      .def("apply_columns", &Model::apply_columns, nb::arg("method"), nb::arg("columns"),
           nb::arg("device"), nb::arg("n_jobs"))
      .def("save", &Model::save, nb::arg("path"), nb::arg("target"), nb::arg("class_labels"),
           nb::arg("numeric_labels"))
      .def_prop_ro("name", &Model::name)
      .def_prop_ro("task", &Model::task)
      .def_prop_ro("params_json", &Model::params_json)
      .def_prop_ro("summary_json", &Model::summary_json)
      .def_prop_ro("training_json", &Model::training_json)
      .def_prop_ro("n_outputs", &Model::n_outputs)
      .def_prop_ro("reads_matrices", &Model::reads_matrices)
      .def_prop_ro("input_columns", &Model::input_columns)
      .def_prop_ro("feature_names_out", &Model::feature_names_out)
      .def_prop_ro("class_labels", &Model::class_labels)
      .def_prop_ro("numeric_labels", &Model::numeric_labels)
      .def_prop_ro("target", &Model::target)
      .def("training_labels", &Model::training_labels);
}
