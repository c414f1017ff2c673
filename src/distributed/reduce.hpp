// The reductions the data-parallel linear fits share: sums of statistics and merged column
// moments over every rank. Each is a no-op when `comm` is null (one process), so the fits call
// them unconditionally and the single-process path does no extra work.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace tabula {

class Communicator;

namespace distributed {

/// Element-wise sum of `values` over every rank, in place.
void sum_over_ranks(Communicator* comm, std::vector<double>& values);
void sum_over_ranks(Communicator* comm, std::vector<std::int64_t>& values);
double sum_over_ranks(Communicator* comm, double value);

/// The largest of every rank's `value` (the value itself when `comm` is null).
double max_over_ranks(Communicator* comm, double value);
/// Element-wise largest of every rank's `values`, in place (one all-gather).
void max_over_ranks(Communicator* comm, std::vector<double>& values);

/// Every rank's part of a float array, concatenated in rank order, on every rank (`mine`
/// itself when `comm` is null).
std::vector<float> gather_over_ranks(Communicator* comm, const std::vector<float>& mine);

/// Where this rank's rows start among all the rows (ranks' rows in rank order) and how many
/// rows there are in all: {0, rows} when `comm` is null.
struct RowRange {
  std::int64_t offset = 0;
  std::int64_t total = 0;
};
RowRange row_range(Communicator* comm, std::int64_t rows);

/// Weighted column moments of every rank's rows from each rank's own: `weight_sum` (> 0), `mean`
/// and population `var` (d values each) are replaced by those of all the rows. The ranks' parts
/// are merged pairwise in rank order (Chan, Golub and LeVeque), so the variances keep the two-pass
/// accuracy a one-process fit has; every rank gets the same numbers. A rank may send weight 0
/// (its mean and var are then ignored; pass finite values).
void merge_moments(Communicator* comm, double& weight_sum, std::vector<double>& mean,
                   std::vector<double>& var);

/// An exact sum of finite doubles, whatever the order they come in and however they are spread
/// over the ranks: every finite double is an integer multiple of 2^-1074, so the sum is kept as
/// that integer, in 32-bit digits (each an int64, with room for carries). value() rounds the
/// exact sum the same way wherever it was added up, so sums that must not depend on the rank
/// count (a boosting baseline) use it in one process too. About 6 times a plain add.
class ExactSum {
 public:
  /// Adds v (InputError when v is not finite).
  void add(double v);
  /// Replaces this sum by the sum of every rank's (nothing for one process or a null comm).
  void sum_over_ranks(Communicator* comm);
  /// The sum as a double (within 2 ulp of the exact sum, a function of the exact sum only).
  double value() const;

 private:
  static constexpr int kDigits = 72;  // 2^(32·72) holds 2^64 values of 2^1024 in 2^-1074 units
  void normalise();
  std::array<std::int64_t, kDigits> digits_{};
  std::int64_t adds_ = 0;  // since the last normalise: a digit grows by < 2^32 an add
};

}  // namespace distributed
}  // namespace tabula
