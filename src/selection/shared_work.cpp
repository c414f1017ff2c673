#include "selection/shared_work.hpp"

#include <algorithm>

namespace tabula::selection {

bool row_independent(const PipelineSpec& spec, const Dataset& data) {
  if (!spec.after.empty()) return false;
  for (const BranchSpec& b : spec.branches) {
    if (b.steps.empty()) continue;
    if (b.columns.names.empty() && b.columns.type &&
        std::none_of(data.columns.begin(), data.columns.end(),
                     [&](const Column& c) { return c.type == *b.columns.type; }))
      continue;
    return false;
  }
  return true;
}

SharedWork::SharedWork(Backend& backend, const Dataset& data, std::span<const double> y,
                       const std::vector<std::int64_t>& pool_rows, Task task, bool forest_bins)
    : backend_(backend),
      data_(data),
      y_(y),
      pool_rows_(pool_rows),
      task_(task),
      forest_bins_(forest_bins) {}

FoldEncoder SharedWork::encoder_for(const PipelineSpec& spec) {
  if (!row_independent(spec, data_)) {
    return [&backend = backend_, &data = data_, spec](std::span<const std::int64_t> train,
                                                      std::span<const std::int64_t> test) {
      Pipeline p(spec);
      p.fit(backend, data, train);
      return FoldMatrices{p.transform(backend, data, train), p.transform(backend, data, test),
                          p.n_outputs(), p.output_names(), p.categorical_outputs()};
    };
  }
  std::shared_ptr<const FoldMatrices> all;
  {
    std::lock_guard lock(mutex_);
    auto& slot = full_cache_[spec.to_json().dump()];
    if (!slot) {
      Pipeline p(spec);
      p.fit(backend_, data_, pool_rows_);
      auto m = std::make_shared<FoldMatrices>();
      m->train = p.transform(backend_, data_);
      m->cols = p.n_outputs();
      m->names = p.output_names();
      m->categorical = p.categorical_outputs();
      slot = m;
    }
    all = slot;
  }
  const std::int64_t n = data_.rows();
  return [all, n](std::span<const std::int64_t> train, std::span<const std::int64_t> test) {
    const auto view = MatrixView<const float>::row_major(all->train.data(), n, all->cols);
    return FoldMatrices{gather_rows(view, train), gather_rows(view, test), all->cols, all->names,
                        all->categorical};
  };
}

const SharedBins* SharedWork::shared_bins_for(const PipelineSpec& spec, const ParamMap& params) {
  if (!forest_bins_ || !row_independent(spec, data_)) return nullptr;
  const int max_bins = ForestParams::parse(params, task_).max_bins;
  std::lock_guard lock(mutex_);
  auto& slot = bins_cache_[spec.to_json().dump() + "#" + std::to_string(max_bins)];
  if (!slot) slot = build_bins(spec, max_bins);
  return slot.get();
}

std::unique_ptr<SharedBins> SharedWork::build_bins(const PipelineSpec& spec, int max_bins) {
  Pipeline p(spec);
  p.fit(backend_, data_, pool_rows_);
  auto x_pool = std::make_unique<std::vector<float>>(p.transform(backend_, data_, pool_rows_));
  const std::int64_t cols = p.n_outputs();
  const auto view = MatrixView<const float>::row_major(
      x_pool->data(), static_cast<std::int64_t>(pool_rows_.size()), cols);
  bins_owned_.push_back(
      std::make_unique<BinnedMatrix>(BinnedMatrix::build(backend_, view, max_bins)));
  auto shared = std::make_unique<SharedBins>();
  shared->bins = bins_owned_.back().get();
  shared->x = view;
  shared->position.assign(static_cast<std::size_t>(data_.rows()), -1);
  for (std::size_t i = 0; i < pool_rows_.size(); ++i) {
    shared->position[static_cast<std::size_t>(pool_rows_[i])] = static_cast<std::int64_t>(i);
    shared->y.push_back(y_[static_cast<std::size_t>(pool_rows_[i])]);
  }
  pool_matrices_.push_back(std::move(x_pool));
  return shared;
}

}  // namespace tabula::selection
