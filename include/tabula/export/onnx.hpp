// ONNX export of a model file: the whole pipeline and the estimator as one ONNX graph, with the
// default operators and ai.onnx.ml's (TreeEnsembleClassifier/Regressor, LabelEncoder), so any
// ONNX runtime scores what `tabula predict` scores. docs/onnx.md lists the inputs, outputs and
// what is refused.
#pragma once

#include <string>

namespace tabula {

/// Writes the model file at `model_path` as an ONNX model at `out_path` (atomically), after
/// loading it with every check of load_model and running onnx's checker on the result.
/// InputError, naming the model file and the part, for what ONNX cannot express exactly (a date
/// column, handle_unknown=error, a random baseline) and, in a build without libonnx, for any
/// export.
void export_onnx(const std::string& model_path, const std::string& out_path);

}  // namespace tabula
