#include "distributed/reduce.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <span>
#include <string>

#include "tabula/core/error.hpp"
#include "tabula/distributed/communicator.hpp"

namespace tabula::distributed {

void sum_over_ranks(Communicator* comm, std::vector<double>& values) {
  if (comm != nullptr && comm->size() > 1) comm->all_reduce_sum(std::span<double>(values));
}

void sum_over_ranks(Communicator* comm, std::vector<std::int64_t>& values) {
  if (comm != nullptr && comm->size() > 1) comm->all_reduce_sum(std::span<std::int64_t>(values));
}

double sum_over_ranks(Communicator* comm, double value) {
  if (comm != nullptr && comm->size() > 1) comm->all_reduce_sum(std::span<double>(&value, 1));
  return value;
}

double max_over_ranks(Communicator* comm, double value) {
  std::vector<double> values{value};
  max_over_ranks(comm, values);
  return values[0];
}

void max_over_ranks(Communicator* comm, std::vector<double>& values) {
  if (comm == nullptr || comm->size() == 1) return;
  std::string bytes(values.size() * sizeof(double), '\0');
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  std::vector<double> theirs(values.size());
  for (const std::string& part : comm->all_gather(bytes)) {
    if (part.size() != bytes.size()) throw Error("max_over_ranks: a rank sent another length");
    if (!values.empty()) std::memcpy(theirs.data(), part.data(), part.size());
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = std::max(values[i], theirs[i]);
  }
}

std::vector<float> gather_over_ranks(Communicator* comm, const std::vector<float>& mine) {
  if (comm == nullptr || comm->size() == 1) return mine;
  std::string bytes(mine.size() * sizeof(float), '\0');
  if (!mine.empty()) std::memcpy(bytes.data(), mine.data(), bytes.size());
  std::vector<float> all;
  for (const std::string& part : comm->all_gather(bytes)) {
    const std::size_t at = all.size();
    all.resize(at + part.size() / sizeof(float));
    if (!part.empty()) std::memcpy(all.data() + at, part.data(), part.size());
  }
  return all;
}

RowRange row_range(Communicator* comm, std::int64_t rows) {
  if (comm == nullptr || comm->size() == 1) return {0, rows};
  std::vector<std::int64_t> counts(static_cast<std::size_t>(comm->size()), 0);
  counts[static_cast<std::size_t>(comm->rank())] = rows;
  comm->all_reduce_sum(std::span<std::int64_t>(counts));
  RowRange range;
  for (int r = 0; r < comm->size(); ++r) {
    if (r < comm->rank()) range.offset += counts[static_cast<std::size_t>(r)];
    range.total += counts[static_cast<std::size_t>(r)];
  }
  return range;
}

void merge_moments(Communicator* comm, double& weight_sum, std::vector<double>& mean,
                   std::vector<double>& var) {
  if (comm == nullptr || comm->size() == 1) return;
  const std::size_t d = mean.size();
  std::vector<double> mine{weight_sum};
  mine.insert(mine.end(), mean.begin(), mean.end());
  mine.insert(mine.end(), var.begin(), var.end());
  std::string bytes(mine.size() * sizeof(double), '\0');
  std::memcpy(bytes.data(), mine.data(), bytes.size());
  const std::vector<std::string> parts = comm->all_gather(bytes);

  std::vector<double> part(mine.size());
  double total = 0.0;
  std::vector<double> sum_squares(d, 0.0);  // Σ w (x - mean)² so far
  for (std::size_t r = 0; r < parts.size(); ++r) {
    std::memcpy(part.data(), parts[r].data(), bytes.size());
    const double w = part[0];
    const double merged = total + w;
    for (std::size_t j = 0; j < d; ++j) {
      const double part_mean = part[1 + j], part_var = part[1 + d + j];
      if (total == 0.0) {  // the first rank with weight (a rank may have none: a scaler's
                           // column with no present value in its rows)
        mean[j] = part_mean;
        sum_squares[j] = w * part_var;
        continue;
      }
      const double delta = part_mean - mean[j];
      mean[j] += delta * w / merged;
      sum_squares[j] += w * part_var + delta * delta * total * w / merged;
    }
    total = merged;
  }
  for (std::size_t j = 0; j < d; ++j) var[j] = sum_squares[j] / total;
  weight_sum = total;
}

void ExactSum::add(double v) {
  const auto bits = std::bit_cast<std::uint64_t>(v);
  const auto field = static_cast<int>((bits >> 52) & 0x7ff);
  if (field == 0x7ff) throw InputError("a sum of values met a non-finite value");
  const std::uint64_t fraction = bits & ((std::uint64_t{1} << 52) - 1);
  if (field == 0 && fraction == 0) return;  // ±0
  // v = ±magnitude · 2^(position - 1074): a subnormal's fraction at position 0, a normal
  // number's 53-bit mantissa at its biased exponent - 1.
  const std::uint64_t magnitude = field == 0 ? fraction : fraction | (std::uint64_t{1} << 52);
  const int position = field == 0 ? 0 : field - 1;
  const bool negative = (bits >> 63) != 0;
  const unsigned __int128 wide = static_cast<unsigned __int128>(magnitude) << (position % 32);
  const int at = position / 32;
  const std::int64_t parts[3] = {static_cast<std::int64_t>(wide & 0xffffffffu),
                                 static_cast<std::int64_t>((wide >> 32) & 0xffffffffu),
                                 static_cast<std::int64_t>(wide >> 64)};
  for (int i = 0; i < 3; ++i)
    digits_[static_cast<std::size_t>(at + i)] += negative ? -parts[i] : parts[i];
  if (++adds_ == (std::int64_t{1} << 29)) normalise();
}

void ExactSum::normalise() {
  for (int i = 0; i + 1 < kDigits; ++i) {
    const std::int64_t carry = digits_[static_cast<std::size_t>(i)] >> 32;  // floor
    digits_[static_cast<std::size_t>(i)] -= carry * (std::int64_t{1} << 32);
    digits_[static_cast<std::size_t>(i) + 1] += carry;
  }
  adds_ = 0;
}

void ExactSum::sum_over_ranks(Communicator* comm) {
  if (comm == nullptr || comm->size() == 1) return;
  normalise();  // every digit below 2^32 (the top one signed): ranks' sums cannot overflow
  comm->all_reduce_sum(std::span<std::int64_t>(digits_));
  normalise();
}

double ExactSum::value() const {
  ExactSum copy = *this;
  copy.normalise();  // the one representation of the exact sum
  bool negative = copy.digits_.back() < 0;
  if (negative) {
    for (std::int64_t& digit : copy.digits_) digit = -digit;
    copy.normalise();
  }
  double out = 0.0;
  for (int i = kDigits - 1; i >= 0; --i)
    if (copy.digits_[static_cast<std::size_t>(i)] != 0)
      out +=
          std::ldexp(static_cast<double>(copy.digits_[static_cast<std::size_t>(i)]), 32 * i - 1074);
  return negative ? -out : out;
}

}  // namespace tabula::distributed
