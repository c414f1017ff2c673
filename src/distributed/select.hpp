// Exact order statistics over every rank's values without gathering them: a radix selection on
// the order-preserving integer key of each double, one all-reduced count histogram per digit.
// What the distributed medians and quantiles use (SimpleImputer, the dummy baselines, gbdt's
// absolute_error); with `comm` null it is the one-process selection, so one process and N ranks
// take the same value by the same steps.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace tabula {

class Communicator;

namespace distributed {

/// A key whose unsigned order is the order of the doubles (not NaN): a < b exactly when
/// order_key(a) < order_key(b). -0.0 and +0.0, equal as doubles, both get +0.0's key.
std::uint64_t order_key(double value);
/// The double whose key is `key` (the inverse of order_key on its image).
double from_order_key(std::uint64_t key);

/// Bits of the key each round of select_over_ranks settles: 2^11 bins of int64 (16 kB) per
/// all-reduce, six rounds for 64 bits.
inline constexpr int kSelectDigitBits = 11;

/// For each k in `ranks` (0-based, ascending or not), the k-th smallest of every rank's
/// `values` together, as a sort of all of them would place it: exact, the same on every rank.
/// InputError for a NaN among `values`. Each round all-reduces one histogram per k (ranks.size() x
/// 2^11 int64); a rank then keeps only its values whose key starts with the digits settled so far.
/// InputError when some k is not below the number of values over every rank.
std::vector<double> select_over_ranks(Communicator* comm, std::span<const double> values,
                                      std::span<const std::int64_t> ranks);

/// NumPy's median of every rank's `values` (the middle value, or the mean of the two middle
/// values), exact: equal to the one-process median. InputError when there are no values.
double median_over_ranks(Communicator* comm, std::span<const double> values);

/// NumPy's linear-interpolation quantile (np.quantile, method "linear") of every rank's
/// `values`, q in [0, 1], exact: equal to the one-process quantile.
double quantile_over_ranks(Communicator* comm, std::span<const double> values, double q);

}  // namespace distributed
}  // namespace tabula
