#include "tabula/models/row_passes.hpp"

#include <algorithm>
#include <cstring>

namespace tabula {

MatrixView<const float> dense_rows(MatrixView<const float> x, std::vector<float>& storage) {
  if (x.is_row_major() && x.contiguous()) return x;
  storage.resize(static_cast<std::size_t>(x.rows * x.cols));
  for (std::int64_t i = 0; i < x.rows; ++i)
    for (std::int64_t j = 0; j < x.cols; ++j) storage[i * x.cols + j] = x(i, j);
  return MatrixView<const float>::row_major(storage.data(), x.rows, x.cols);
}

MatrixRowPasses::MatrixRowPasses(MatrixView<const float> x, std::span<const double> weight,
                                 std::uint64_t sample_seed, std::int64_t sample_capacity)
    : x_(dense_rows(x, row_major_)), weight_(weight) {
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
