#include "tabula/models/row_passes.hpp"

#include <algorithm>
#include <cstring>

namespace tabula {

MatrixRowPasses::MatrixRowPasses(MatrixView<const float> x, std::span<const double> weight,
                                 std::uint64_t sample_seed, std::int64_t sample_capacity)
    : x_(x), weight_(weight) {
  if (!x.is_row_major() || !x.contiguous()) {  // passes hand out row-major blocks
    row_major_.resize(static_cast<std::size_t>(x.rows * x.cols));
    for (std::int64_t i = 0; i < x.rows; ++i)
      for (std::int64_t j = 0; j < x.cols; ++j) row_major_[i * x.cols + j] = x(i, j);
    x_ = MatrixView<const float>::row_major(row_major_.data(), x.rows, x.cols);
  }
  const std::vector<std::int64_t> slots =
      ReservoirSample::rows_of(x_.rows, sample_capacity, sample_seed);
  sample_.resize(slots.size() * static_cast<std::size_t>(x_.cols));
  for (std::size_t s = 0; s < slots.size(); ++s)
    std::memcpy(sample_.data() + s * x_.cols, x_.data + slots[s] * x_.stride,
                static_cast<std::size_t>(x_.cols) * sizeof(float));
  if (!weight_.empty())
    for (std::int64_t row : slots) sample_weight_.push_back(weight_[static_cast<std::size_t>(row)]);
}

MatrixView<const float> MatrixRowPasses::sample() const {
  return MatrixView<const float>::row_major(
      sample_.data(),
      static_cast<std::int64_t>(sample_.size()) / std::max<std::int64_t>(1, x_.cols), x_.cols);
}

void MatrixRowPasses::pass(const std::function<bool(const RowBlock&)>& visit) {
  visit(RowBlock{x_, weight_, 0});
}

}  // namespace tabula
