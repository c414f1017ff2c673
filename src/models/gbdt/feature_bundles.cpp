#include "models/gbdt/feature_bundles.hpp"

#include <algorithm>
#include <array>
#include <numeric>

#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula::gbdt {
namespace {

// Channels a histogram bin holds at most (Quantiser: two packed or three plain).
constexpr std::int64_t kMaxChannels = 3;
// Rows per task when the bundles' codes are written.
constexpr std::int64_t kRowsPerTask = 16384;

// The rows of a feature outside its default bin, one bit a row.
std::vector<std::uint64_t> rows_outside(const std::uint8_t* column, std::int64_t n,
                                        std::uint8_t default_bin) {
  std::vector<std::uint64_t> bits(static_cast<std::size_t>((n + 63) / 64));
  for (std::int64_t r = 0; r < n; ++r)
    bits[static_cast<std::size_t>(r / 64)] |= std::uint64_t{column[r] != default_bin} << (r % 64);
  return bits;
}

bool overlap(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b) {
  for (std::size_t w = 0; w < a.size(); ++w)
    if ((a[w] & b[w]) != 0) return true;
  return false;
}

}  // namespace

// long: the greedy bundling (LightGBM's order: most rows outside the default first, each
// feature into the first bundle it conflicts with nowhere and fits), then the codes.
FeatureBundles::FeatureBundles(const BinnedMatrix& bins, std::span<const std::uint8_t> columns)
    : bins_(bins) {
  const std::int64_t n = bins.rows(), d = bins.cols();
  if (static_cast<std::int64_t>(columns.size()) != n * d)
    throw Error("gbdt: feature bundles need " + std::to_string(n) + " x " + std::to_string(d) +
                " feature-major codes, got " + std::to_string(columns.size()));
  if (n == 0 || d < 2) return;
  default_bin_.resize(as_index(d));
  std::vector<std::int64_t> outside(as_index(d));
  parallel_for(d, [&](std::int64_t f) {
    std::array<std::int64_t, 256> count{};
    const std::uint8_t* column = columns.data() + f * n;
    for (std::int64_t r = 0; r < n; ++r) ++count[column[r]];
    const auto most = std::max_element(count.begin(), count.end());  // ties: the lower bin
    default_bin_[as_index(f)] = static_cast<std::uint8_t>(most - count.begin());
    outside[as_index(f)] = n - *most;
  });
  std::vector<std::int32_t> order(as_index(d));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) {
    return outside[as_index(a)] > outside[as_index(b)];
  });
  const std::vector<std::int32_t>& n_bins = bins.n_bins();
  struct Bundle {
    std::vector<std::int32_t> members;
    std::int64_t shared_codes = 1;    // code 0 (every member at its default) and theirs
    std::vector<std::uint64_t> used;  // rows outside some member's default
  };
  std::vector<Bundle> found;
  for (const std::int32_t f : order) {
    std::vector<std::uint64_t> rows =
        rows_outside(columns.data() + std::int64_t{f} * n, n, default_bin_[as_index(f)]);
    const std::int64_t codes = n_bins[as_index(f)] - 1;
    auto fits = std::find_if(found.begin(), found.end(), [&](const Bundle& b) {
      return b.shared_codes + codes <= bins.max_bins() && !overlap(b.used, rows);
    });
    if (fits == found.end()) {
      found.push_back({{}, 1, std::vector<std::uint64_t>(rows.size())});
      fits = std::prev(found.end());
    }
    fits->members.push_back(f);
    fits->shared_codes += codes;
    for (std::size_t w = 0; w < rows.size(); ++w) fits->used[w] |= rows[w];
  }
  if (std::none_of(found.begin(), found.end(),
                   [](const Bundle& b) { return b.members.size() > 1; })) {
    default_bin_.clear();
    return;
  }
  // Bundles in the order of their first feature; members ascending.
  for (Bundle& b : found) std::sort(b.members.begin(), b.members.end());
  std::sort(found.begin(), found.end(),
            [](const Bundle& a, const Bundle& b) { return a.members[0] < b.members[0]; });
  size_ = static_cast<std::int64_t>(found.size());
  bundle_.resize(as_index(d));
  offset_.assign(as_index(d), 0);
  for (std::int64_t i = 0; i < size_; ++i) {
    const Bundle& b = found[as_index(i)];
    std::int32_t next = 1;
    for (const std::int32_t f : b.members) {
      bundle_[as_index(f)] = static_cast<std::int32_t>(i);
      if (b.members.size() == 1) break;
      offset_[as_index(f)] = next;
      next += n_bins[as_index(f)] - 1;
    }
    bundle_codes_.push_back(b.members.size() == 1 ? n_bins[as_index(b.members[0])] : next);
  }
  codes_.resize(as_index(n * size_));
  parallel_for((n + kRowsPerTask - 1) / kRowsPerTask, [&](std::int64_t task) {
    const std::int64_t first = task * kRowsPerTask, last = std::min(n, first + kRowsPerTask);
    for (std::int64_t i = 0; i < size_; ++i) {
      std::uint8_t* out = codes_.data() + i;
      for (std::int64_t r = first; r < last; ++r) out[r * size_] = 0;
      for (const std::int32_t f : found[as_index(i)].members) {
        const std::uint8_t* column = columns.data() + std::int64_t{f} * n;
        const std::int32_t offset = offset_[as_index(f)];
        const std::int32_t z = default_bin_[as_index(f)];
        for (std::int64_t r = first; r < last; ++r) {
          const std::int32_t c = column[r];
          if (offset == 0)
            out[r * size_] = static_cast<std::uint8_t>(c);
          else if (c != z)  // members are exclusive: at most one writes a row
            out[r * size_] = static_cast<std::uint8_t>(offset + (c < z ? c : c - 1));
        }
      }
    }
  });
}

MatrixView<const std::uint8_t> FeatureBundles::codes() const {
  return MatrixView<const std::uint8_t>::row_major(codes_.data(), bins_.rows(), size_);
}

const std::int64_t* FeatureBundles::feature_histogram(std::int64_t feature,
                                                      const std::int64_t* bundle_hist,
                                                      std::int64_t k,
                                                      std::vector<std::int64_t>& scratch) const {
  const std::int32_t offset = offset_[as_index(feature)];
  if (offset == 0) return bundle_hist;
  if (k > kMaxChannels) throw Error("gbdt: feature bundles hold at most 3 channels a bin");
  const std::int32_t nb = bins_.n_bins()[as_index(feature)];
  const std::int32_t z = default_bin_[as_index(feature)];
  const std::int32_t used = bundle_codes_[as_index(bundle_[as_index(feature)])];
  // The default bin: the bundle's rows (every code's sums) less the feature's other bins.
  std::int64_t rest[kMaxChannels] = {};
  for (std::int32_t b = 0; b < used; ++b)
    for (std::int64_t c = 0; c < k; ++c) rest[c] += bundle_hist[b * k + c];
  scratch.resize(static_cast<std::size_t>(nb * k));
  for (std::int32_t b = 0; b < nb; ++b) {
    if (b == z) continue;
    const std::int64_t* from = bundle_hist + (offset + (b < z ? b : b - 1)) * k;
    for (std::int64_t c = 0; c < k; ++c) {
      scratch[static_cast<std::size_t>(b * k + c)] = from[c];
      rest[c] -= from[c];
    }
  }
  for (std::int64_t c = 0; c < k; ++c) scratch[static_cast<std::size_t>(z * k + c)] = rest[c];
  return scratch.data();
}

}  // namespace tabula::gbdt
