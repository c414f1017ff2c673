// What the pipeline's steps gather over the ranks of a data-parallel fit: a text column's
// category counts (every encoder and text imputer reads them) and a numeric column's distinct
// values with their counts (SimpleImputer's most_frequent). Each rank sends its distinct values
// once; the parts from other ranks are checked before use (sizes, counts), as any outside bytes.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <string>

#include "pipeline/steps.hpp"
#include "tabula/core/error.hpp"
#include "tabula/distributed/communicator.hpp"

namespace tabula::pipeline {
namespace {

void put(std::string& out, std::int64_t v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

void put(std::string& out, double v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }

/// One rank's part, read with every size checked against what is left.
class PartReader {
 public:
  PartReader(const std::string& bytes, std::size_t rank, const char* what)
      : bytes_(bytes), rank_(rank), what_(what) {}

  template <typename T>
  T scalar() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, bytes_.data() + at_, sizeof v);
    at_ += sizeof v;
    return v;
  }
  std::int64_t count() {
    const auto n = scalar<std::int64_t>();
    if (n < 0) fail("a negative count");
    return n;
  }
  std::string text() {
    const auto length = static_cast<std::size_t>(count());
    need(length);
    std::string s = bytes_.substr(at_, length);
    at_ += length;
    return s;
  }
  bool done() const { return at_ == bytes_.size(); }
  [[noreturn]] void fail(const std::string& why) const {
    throw InputError("rank " + std::to_string(rank_) + "'s " + what_ + ": " + why);
  }

 private:
  void need(std::size_t n) const {
    if (bytes_.size() - at_ < n) fail("truncated");
  }
  const std::string& bytes_;
  std::size_t at_ = 0;
  std::size_t rank_;
  const char* what_;
};

}  // namespace

void merge_over_ranks(CategoryCounts& counts, Communicator* comm) {
  if (comm == nullptr || comm->size() == 1) return;
  std::string mine;
  put(mine, counts.missing);
  put(mine, static_cast<std::int64_t>(counts.values.size()));
  for (std::size_t i = 0; i < counts.values.size(); ++i) {
    put(mine, counts.counts[i]);
    put(mine, static_cast<std::int64_t>(counts.values[i].size()));
    mine += counts.values[i];
  }
  const std::vector<std::string> parts = comm->all_gather(mine);
  std::map<std::string, std::int64_t> merged;  // std::string orders by bytes (unsigned char)
  CategoryCounts all;
  for (std::size_t r = 0; r < parts.size(); ++r) {
    PartReader in(parts[r], r, "category counts");
    all.missing += in.count();
    const std::int64_t n = in.count();
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t c = in.count();
      merged[in.text()] += c;
    }
    if (!in.done()) in.fail("trailing bytes");
  }
  for (auto& [value, c] : merged) {
    all.values.push_back(value);
    all.counts.push_back(c);
  }
  counts = std::move(all);
}

std::vector<std::pair<double, std::int64_t>> value_counts_over_ranks(std::span<const double> values,
                                                                     Communicator* comm) {
  std::vector<double> present;
  present.reserve(values.size());
  for (double v : values)
    if (!std::isnan(v)) present.push_back(v == 0.0 ? 0.0 : v);
  std::sort(present.begin(), present.end());
  std::vector<std::pair<double, std::int64_t>> counts;
  for (std::size_t i = 0; i < present.size();) {
    std::size_t j = i;
    while (j < present.size() && present[j] == present[i]) ++j;
    counts.emplace_back(present[i], static_cast<std::int64_t>(j - i));
    i = j;
  }
  if (comm == nullptr || comm->size() == 1) return counts;
  std::string mine;
  for (const auto& [value, c] : counts) {
    put(mine, value);
    put(mine, c);
  }
  std::map<double, std::int64_t> merged;
  const std::vector<std::string> parts = comm->all_gather(mine);
  for (std::size_t r = 0; r < parts.size(); ++r) {
    PartReader in(parts[r], r, "value counts");
    while (!in.done()) {
      const auto value = in.scalar<double>();
      if (std::isnan(value)) in.fail("a NaN value");
      merged[value] += in.count();
    }
  }
  return {merged.begin(), merged.end()};
}

}  // namespace tabula::pipeline
