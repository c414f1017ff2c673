#include "evaluation/labelled_rows.hpp"

#include "tabula/core/error.hpp"

namespace tabula::evaluation {

void require_supervised(const Estimator& estimator, const std::string& where,
                        std::string_view verb) {
  if (is_unsupervised(estimator.task()))
    throw InputError(where + "model '" + estimator.name() + "' is a " +
                     std::string(to_string(estimator.task())) + " model; " + std::string(verb) +
                     " needs a supervised model (a classifier or a regressor)");
}

LabelledRows read_labelled_rows(const LoadedModel& model, const std::string& data_path,
                                const std::string& target, const io::CsvSettings& csv,
                                std::string_view verb) {
  LabelledRows out;
  out.target = target.empty() ? model.schema.target : target;
  if (out.target.empty())
    throw InputError(model.path + ": the model names no target column: pass --target");
  io::CsvOptions options = csv.options();
  options.target = out.target;
  try {
    out.data = io::read_csv(data_path, options);
  } catch (const InputError& e) {
    std::string what = e.what();
    if (what.find("target column not found") == std::string::npos) throw;
    throw InputError(what + " (" + std::string(verb) + " needs the true values: " + model.path +
                     "'s target is '" + model.schema.target + "'; --target names another column)");
  }
  out.y =
      encode_target_as(*out.data.target, model.schema, model.estimator->task(), out.data.source);
  return out;
}

TestPredictions predict_rows(const Predictor& predictor, const Dataset& data,
                             std::vector<std::string>* notes) {
  const std::vector<float> x = predictor.features(data);
  const auto view =
      MatrixView<const float>::row_major(x.data(), data.rows(), predictor.n_features());
  return predict_test_rows(predictor, view, notes);
}

}  // namespace tabula::evaluation
