// Train/test holdout, plain and stratified.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>

#include "selection/random_draws.hpp"
#include "tabula/core/error.hpp"
#include "tabula/selection/model_selection.hpp"

namespace tabula {
namespace {

using selection::shuffle_in_place;

std::int64_t test_count(std::int64_t n, double test_size) {
  if (!(test_size > 0.0 && test_size < 1.0))
    throw InputError("test size " + std::to_string(test_size) +
                     " is out of range: expected a fraction strictly between 0 and 1");
  const auto n_test = static_cast<std::int64_t>(std::ceil(test_size * static_cast<double>(n)));
  if (n_test >= n || n - n_test < 1)
    throw InputError("a test size of " + std::to_string(test_size) + " with " + std::to_string(n) +
                     " rows leaves no training rows");
  return n_test;
}

/// sklearn's _approximate_mode: floor of the proportional share, then one more for the largest
/// fractional parts (ties in random order) until the total is `draws`.
std::vector<std::int64_t> approximate_mode(const std::vector<std::int64_t>& counts,
                                           std::int64_t draws, std::mt19937_64& rng) {
  std::int64_t total = 0;
  for (auto c : counts) total += c;
  std::vector<std::int64_t> floored(counts.size());
  std::vector<double> remainder(counts.size());
  std::int64_t assigned = 0;
  for (std::size_t j = 0; j < counts.size(); ++j) {
    const double share =
        static_cast<double>(draws) * static_cast<double>(counts[j]) / static_cast<double>(total);
    floored[j] = static_cast<std::int64_t>(std::floor(share));
    remainder[j] = share - static_cast<double>(floored[j]);
    assigned += floored[j];
  }
  std::vector<double> levels = remainder;
  std::sort(levels.begin(), levels.end(), std::greater<>());
  levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
  std::int64_t need = draws - assigned;
  for (double level : levels) {
    if (need <= 0) break;
    std::vector<std::size_t> tied;
    for (std::size_t j = 0; j < counts.size(); ++j)
      if (remainder[j] == level) tied.push_back(j);
    shuffle_in_place(tied, rng);
    const auto take = std::min<std::int64_t>(need, static_cast<std::int64_t>(tied.size()));
    for (std::int64_t t = 0; t < take; ++t) ++floored[tied[static_cast<std::size_t>(t)]];
    need -= take;
  }
  return floored;
}

}  // namespace

TrainTestSplit train_test_split(std::int64_t n, double test_size, std::uint64_t seed) {
  if (n < 2) throw InputError("cannot hold out a test set from " + std::to_string(n) + " rows");
  const std::int64_t n_test = test_count(n, test_size);
  std::mt19937_64 rng(seed);
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  shuffle_in_place(order, rng);
  TrainTestSplit split;
  split.test.assign(order.begin(), order.begin() + n_test);
  split.train.assign(order.begin() + n_test, order.end());
  std::sort(split.test.begin(), split.test.end());
  std::sort(split.train.begin(), split.train.end());
  return split;
}

TrainTestSplit group_train_test_split(std::span<const std::int64_t> groups, double test_size,
                                      std::uint64_t seed) {
  std::int64_t n_groups = 0;
  for (std::int64_t g : groups) {
    if (g < 0) throw InputError("group holdout: negative group id " + std::to_string(g));
    n_groups = std::max(n_groups, g + 1);
  }
  if (n_groups < 2)
    throw InputError("cannot hold out a test set of whole groups from " + std::to_string(n_groups) +
                     " group(s)");
  const std::int64_t n_test = test_count(n_groups, test_size);
  std::mt19937_64 rng(seed);
  std::vector<std::int64_t> order(static_cast<std::size_t>(n_groups));
  std::iota(order.begin(), order.end(), 0);
  shuffle_in_place(order, rng);
  std::vector<char> in_test(static_cast<std::size_t>(n_groups), 0);
  for (std::int64_t i = 0; i < n_test; ++i) in_test[static_cast<std::size_t>(order[i])] = 1;
  TrainTestSplit split;
  for (std::size_t row = 0; row < groups.size(); ++row)
    (in_test[static_cast<std::size_t>(groups[row])] ? split.test : split.train)
        .push_back(static_cast<std::int64_t>(row));
  return split;
}

TrainTestSplit stratified_train_test_split(std::span<const double> classes, int n_classes,
                                           double test_size, std::uint64_t seed) {
  const auto n = static_cast<std::int64_t>(classes.size());
  if (n < 2) throw InputError("cannot hold out a test set from " + std::to_string(n) + " rows");
  if (n_classes < 1) throw InputError("stratified split: no classes");
  const std::int64_t n_test = test_count(n, test_size);
  const std::int64_t n_train = n - n_test;
  std::vector<std::vector<std::int64_t>> rows(static_cast<std::size_t>(n_classes));
  for (std::int64_t i = 0; i < n; ++i) {
    const double c = classes[static_cast<std::size_t>(i)];
    if (!(c >= 0 && c < n_classes))
      throw InputError("stratified split: row " + std::to_string(i) + " has class " +
                       std::to_string(c) + ", outside 0.." + std::to_string(n_classes - 1));
    rows[static_cast<std::size_t>(c)].push_back(i);
  }
  std::vector<std::int64_t> counts;
  std::vector<std::size_t> present;
  for (std::size_t j = 0; j < rows.size(); ++j)
    if (!rows[j].empty()) {
      if (rows[j].size() < 2)
        throw InputError("stratified split: class " + std::to_string(j) +
                         " has only 1 row; every class needs at least 2");
      counts.push_back(static_cast<std::int64_t>(rows[j].size()));
      present.push_back(j);
    }
  const auto k = static_cast<std::int64_t>(counts.size());
  if (n_test < k || n_train < k)
    throw InputError("stratified split: the test part (" + std::to_string(n_test) +
                     " rows) and the train part (" + std::to_string(n_train) +
                     " rows) each need at least one row per class (" + std::to_string(k) + ")");
  std::mt19937_64 rng(seed);
  const std::vector<std::int64_t> train_counts = approximate_mode(counts, n_train, rng);
  std::vector<std::int64_t> left(counts.size());
  for (std::size_t j = 0; j < counts.size(); ++j) left[j] = counts[j] - train_counts[j];
  const std::vector<std::int64_t> test_counts = approximate_mode(left, n_test, rng);
  TrainTestSplit split;
  for (std::size_t j = 0; j < present.size(); ++j) {
    std::vector<std::int64_t>& r = rows[present[j]];
    shuffle_in_place(r, rng);
    const auto a = static_cast<std::ptrdiff_t>(train_counts[j]);
    const auto b = a + static_cast<std::ptrdiff_t>(test_counts[j]);
    split.train.insert(split.train.end(), r.begin(), r.begin() + a);
    split.test.insert(split.test.end(), r.begin() + a, r.begin() + b);
  }
  std::sort(split.test.begin(), split.test.end());
  std::sort(split.train.begin(), split.train.end());
  return split;
}

}  // namespace tabula
