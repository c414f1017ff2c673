// Internal to the pipeline: the fitted state behind tabula::Pipeline (shared by the fit and
// transform code in pipeline.cpp and the saved form in pipeline_io.cpp).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/steps.hpp"
#include "tabula/pipeline/pipeline.hpp"

namespace tabula {

/// One raw column of a branch, fitted: its elementwise maps (one per output) and, for a text
/// column, the imputer's fill value and the encoder.
struct FittedColumn {
  std::string name;
  ColumnType type = ColumnType::kNumeric;
  std::int64_t input = 0;  // index into State::inputs
  std::optional<std::string> fill;
  std::optional<pipeline::Encoder> encoder;
  std::vector<pipeline::Affine> maps;
  std::int64_t width() const { return static_cast<std::int64_t>(maps.size()); }
};

struct FittedBranch {
  std::string name;
  std::vector<FittedColumn> columns;
  std::int64_t width_in = 0;            // sum of the columns' widths
  std::vector<pipeline::MatrixOp> ops;  // steps from the first PCA on, over the branch's block
  std::int64_t width = 0;               // output width
  nlohmann::json steps = nlohmann::json::array();  // fitted attributes, for summary()
};

struct PipelineState {
  PipelineSpec spec;
  bool fitted = false;
  std::vector<std::pair<std::string, ColumnType>> inputs;
  std::vector<FittedBranch> branches;
  std::int64_t concat_width = 0;
  std::vector<pipeline::MatrixOp> after;
  nlohmann::json after_steps = nlohmann::json::array();
  std::vector<std::string> output_names;
  std::vector<std::string> notes;
};

struct Pipeline::State : PipelineState {};

}  // namespace tabula
