// MLflow export of a model file: an MLflow model directory whose python_function flavour loads
// the model with tabula's Python package (tabula.mlflow), so mlflow.pyfunc.load_model and
// `mlflow models serve` score it. docs/python.md, "MLflow".
#pragma once

#include <string>

namespace tabula {

/// Writes the MLflow model directory `out_dir` for the model file at `model_path` (loaded with
/// every check first): MLmodel (flavours python_function and tabula, with the input columns),
/// model.tbl (the file itself) and requirements.txt. The directory appears whole
/// or not at all; InputError when it exists already.
void export_mlflow(const std::string& model_path, const std::string& out_dir);

}  // namespace tabula
