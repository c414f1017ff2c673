// The pipeline: branches of column steps, concatenated, then the "after" steps.
#include "tabula/pipeline.hpp"

namespace tabula {

struct Pipeline::State {
  PipelineSpec spec;
};

Pipeline::Pipeline(PipelineSpec spec) : state_(std::make_unique<State>()) {
  state_->spec = std::move(spec);
}
Pipeline::~Pipeline() = default;
Pipeline::Pipeline(Pipeline&&) noexcept = default;
Pipeline& Pipeline::operator=(Pipeline&&) noexcept = default;

const PipelineSpec& Pipeline::spec() const { return state_->spec; }

}  // namespace tabula
