// The two halves of an exported graph (onnx_pipeline.cpp, onnx_estimators.cpp), joined by
// onnx_export.cpp: the pipeline from the graph inputs to the estimator's float32 input, and the
// estimator from there to the outputs.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "export/onnx_graph.hpp"
#include "tabula/artifact/artifact.hpp"

namespace tabula::onnx_export {

/// Declares the graph inputs (one double [N, n] input "X" when every raw column is numeric,
/// else one [N, 1] input per column, named as the column: double for numbers, string for text,
/// "" meaning missing; metadata "tabula.input_columns" lists the columns in order) and emits
/// the pipeline; returns the float [N, width] value the estimator
/// reads. InputError naming the column for what ONNX cannot express.
std::string emit_pipeline(Graph& graph, const ArtifactReader& in, std::int64_t& width);

/// Emits the estimator over `features` and declares the outputs: "label" [N] and
/// "probabilities" [N, classes] for classifiers, "variable" [N, 1] for regressors,
/// "transformed" [N, k] for transforms. InputError for a model ONNX cannot express exactly.
void emit_estimator(Graph& graph, const ArtifactReader& in, const std::string& features,
                    std::int64_t width);

/// (x - mean) · componentsᵀ in float64, times `scale` per output when given (else as it is):
/// x [N, d] double, mean d values, components k x d row-major, scale k values or none. Both
/// a pipeline's PCA step and the PCA model.
std::string project(Graph& graph, const std::string& x, const std::vector<double>& mean,
                    const std::vector<double>& components, const std::vector<double>& scale,
                    std::int64_t d, std::int64_t k);

/// A row-major rows x cols matrix as cols x rows (what MatMul wants of coefficients).
std::vector<double> transposed(const std::vector<double>& values, std::int64_t rows,
                               std::int64_t cols);

/// "model file 'PATH': " + what, as an InputError.
[[noreturn]] void refuse(const ArtifactReader& in, const std::string& what);

}  // namespace tabula::onnx_export
