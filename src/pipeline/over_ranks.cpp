// What the pipeline's steps gather over the ranks of a data-parallel fit: a text column's
// category counts (every encoder and text imputer reads them) and a numeric column's distinct
// values with their counts (SimpleImputer's most_frequent). Each rank sends its distinct values
// once; the parts from other ranks are checked before use (sizes, counts), as any outside bytes.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "distributed/pack.hpp"
#include "pipeline/steps.hpp"
#include "tabula/core/error.hpp"
#include "tabula/distributed/communicator.hpp"

namespace tabula::pipeline {
using distributed::pack;
using distributed::PartReader;

void merge_over_ranks(CategoryCounts& counts, Communicator* comm) {
  if (comm == nullptr || comm->size() == 1) return;
  std::string mine;
  pack(mine, counts.missing);
  pack(mine, static_cast<std::int64_t>(counts.values.size()));
  for (std::size_t i = 0; i < counts.values.size(); ++i) {
    pack(mine, counts.counts[i]);
    distributed::pack_text(mine, counts.values[i]);
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
    pack(mine, value);
    pack(mine, c);
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
