// The first strictly largest of a sequence of values (a split scan's rule: a later candidate
// wins only when strictly larger), kept as one {value, index} vector that a compare and a blend
// replace: no branch on which candidate is better, a guess that fails at random where gains rise
// and fall along a scan (pixels: a quarter of a boosted fit's time, a tenth of a forest's).
#pragma once

#include <cstdint>
#include <limits>

namespace tabula {

class FirstMax {
 public:
  /// start: what a candidate must exceed (-infinity: any valid value that is not NaN).
  explicit FirstMax(double start = -std::numeric_limits<double>::infinity()) : best_{start, -1.0} {}

  /// Offers candidate `index` (0 .. 2^53) of value `value`; an invalid one is never taken, nor
  /// is NaN.
  void offer(bool valid, double value, std::int64_t index) {
    const double v = valid ? value : -std::numeric_limits<double>::infinity();
    const Mask better = Pair{v, v} > Pair{best_[0], best_[0]};
    best_ = better ? Pair{v, static_cast<double>(index)} : best_;
  }

  /// Whether a candidate was taken.
  bool found() const { return best_[1] >= 0; }
  /// The taken candidate's value (the start when none).
  double value() const { return best_[0]; }
  /// The taken candidate's index (-1 when none).
  std::int64_t index() const { return static_cast<std::int64_t>(best_[1]); }

 private:
  using Pair = double __attribute__((vector_size(16)));
  using Mask = std::int64_t __attribute__((vector_size(16)));
  Pair best_;
};

}  // namespace tabula
