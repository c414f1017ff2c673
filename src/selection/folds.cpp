// Cross-validation splitters: index sets only, never copies of the data.
#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <string>

#include "selection/random_draws.hpp"
#include "tabula/core/error.hpp"
#include "tabula/selection/model_selection.hpp"

namespace tabula {
namespace {

using selection::shuffle_in_place;

void check_splits(std::int64_t n, int n_splits, const char* what) {
  if (n_splits < 2)
    throw InputError(std::string(what) + ": the number of folds must be at least 2, got " +
                     std::to_string(n_splits));
  if (n < n_splits)
    throw InputError(std::string(what) + ": cannot make " + std::to_string(n_splits) +
                     " folds from " + std::to_string(n) + " rows (fewer rows than folds)");
}

/// Folds from a test-fold label per position: fold f tests the positions labelled f and trains
/// on the others.
std::vector<Fold> folds_from_labels(const std::vector<int>& label, int n_splits) {
  std::vector<Fold> folds(static_cast<std::size_t>(n_splits));
  for (std::size_t i = 0; i < label.size(); ++i)
    for (int f = 0; f < n_splits; ++f)
      (label[i] == f ? folds[f].test : folds[f].train).push_back(static_cast<std::int64_t>(i));
  return folds;
}

}  // namespace

std::vector<Fold> kfold(std::int64_t n, int n_splits, bool shuffle, std::uint64_t seed) {
  check_splits(n, n_splits, "KFold");
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  if (shuffle) {
    std::mt19937_64 rng(seed);
    shuffle_in_place(order, rng);
  }
  std::vector<int> label(static_cast<std::size_t>(n));
  std::int64_t start = 0;
  for (int f = 0; f < n_splits; ++f) {
    const std::int64_t size = n / n_splits + (f < n % n_splits ? 1 : 0);
    for (std::int64_t i = start; i < start + size; ++i) label[order[i]] = f;
    start += size;
  }
  return folds_from_labels(label, n_splits);
}

std::vector<Fold> stratified_kfold(std::span<const double> classes, int n_splits, bool shuffle,
                                   std::uint64_t seed) {
  const auto n = static_cast<std::int64_t>(classes.size());
  check_splits(n, n_splits, "StratifiedKFold");
  // Classes numbered by first appearance, as sklearn's encoding does.
  std::map<double, int> code_of;
  std::vector<int> encoded(classes.size());
  std::vector<std::int64_t> counts;
  std::vector<double> first_label;
  for (std::size_t i = 0; i < classes.size(); ++i) {
    auto [it, fresh] = code_of.try_emplace(classes[i], static_cast<int>(counts.size()));
    if (fresh) {
      counts.push_back(0);
      first_label.push_back(classes[i]);
    }
    encoded[i] = it->second;
    ++counts[static_cast<std::size_t>(it->second)];
  }
  for (std::size_t c = 0; c < counts.size(); ++c)
    if (counts[c] < n_splits)
      throw InputError("StratifiedKFold: class " + std::to_string(first_label[c]) + " has " +
                       std::to_string(counts[c]) + " row(s), fewer than the " +
                       std::to_string(n_splits) + " folds; use fewer folds or KFold");
  const std::size_t k = counts.size();
  // allocation[f][c]: rows of class c in fold f = how many of the sorted class sequence's
  // positions f, f + n_splits, ... hold class c.
  std::vector<std::vector<std::int64_t>> allocation(static_cast<std::size_t>(n_splits),
                                                    std::vector<std::int64_t>(k, 0));
  std::int64_t position = 0;
  for (std::size_t c = 0; c < k; ++c)
    for (std::int64_t r = 0; r < counts[c]; ++r, ++position)
      ++allocation[static_cast<std::size_t>(position % n_splits)][c];
  std::mt19937_64 rng(seed);
  std::vector<int> label(classes.size());
  for (std::size_t c = 0; c < k; ++c) {
    std::vector<int> folds_for_class;
    for (int f = 0; f < n_splits; ++f)
      folds_for_class.insert(folds_for_class.end(), static_cast<std::size_t>(allocation[f][c]), f);
    if (shuffle) shuffle_in_place(folds_for_class, rng);
    std::size_t next = 0;
    for (std::size_t i = 0; i < classes.size(); ++i)
      if (encoded[i] == static_cast<int>(c)) label[i] = folds_for_class[next++];
  }
  return folds_from_labels(label, n_splits);
}

std::vector<Fold> group_kfold(std::span<const std::int64_t> groups, int n_splits) {
  const auto n = static_cast<std::int64_t>(groups.size());
  check_splits(n, n_splits, "GroupKFold");
  std::map<std::int64_t, std::int64_t> size_of;
  for (std::int64_t g : groups) ++size_of[g];
  if (static_cast<std::int64_t>(size_of.size()) < n_splits)
    throw InputError("GroupKFold: the group column has " + std::to_string(size_of.size()) +
                     " distinct group(s), fewer than the " + std::to_string(n_splits) +
                     " folds; each fold needs at least one group");
  std::vector<std::pair<std::int64_t, std::int64_t>> by_size(size_of.begin(), size_of.end());
  // Largest first; among equal sizes the larger group id first (sklearn's reversed argsort).
  std::stable_sort(by_size.begin(), by_size.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first > b.first;
  });
  std::vector<std::int64_t> fold_rows(static_cast<std::size_t>(n_splits), 0);
  std::map<std::int64_t, int> fold_of;
  for (const auto& [group, size] : by_size) {
    const auto lightest =
        static_cast<int>(std::min_element(fold_rows.begin(), fold_rows.end()) - fold_rows.begin());
    fold_rows[static_cast<std::size_t>(lightest)] += size;
    fold_of[group] = lightest;
  }
  std::vector<int> label(groups.size());
  for (std::size_t i = 0; i < groups.size(); ++i) label[i] = fold_of[groups[i]];
  return folds_from_labels(label, n_splits);
}

std::vector<Fold> time_series_split(std::int64_t n, int n_splits, std::int64_t gap,
                                    std::int64_t max_train_size) {
  if (n_splits < 2)
    throw InputError("TimeSeriesSplit: the number of folds must be at least 2, got " +
                     std::to_string(n_splits));
  if (gap < 0) throw InputError("TimeSeriesSplit: gap must be >= 0");
  const std::int64_t test_size = n / (n_splits + 1);
  if (n_splits + 1 > n || n - gap - test_size * n_splits <= 0 || test_size == 0)
    throw InputError("TimeSeriesSplit: cannot make " + std::to_string(n_splits) +
                     " folds (plus the first training block) from " + std::to_string(n) +
                     " rows with gap " + std::to_string(gap));
  std::vector<Fold> folds;
  for (std::int64_t start = n - n_splits * test_size; start < n; start += test_size) {
    Fold fold;
    const std::int64_t train_end = start - gap;
    const std::int64_t train_begin =
        max_train_size > 0 ? std::max<std::int64_t>(0, train_end - max_train_size) : 0;
    for (std::int64_t i = train_begin; i < train_end; ++i) fold.train.push_back(i);
    for (std::int64_t i = start; i < start + test_size; ++i) fold.test.push_back(i);
    folds.push_back(std::move(fold));
  }
  return folds;
}

std::vector<Fold> repeated_kfold(std::int64_t n, int n_splits, int n_repeats, std::uint64_t seed) {
  if (n_repeats < 1)
    throw InputError("RepeatedKFold: n_repeats must be at least 1, got " +
                     std::to_string(n_repeats));
  std::vector<Fold> folds;
  for (int r = 0; r < n_repeats; ++r) {
    // A distinct, reproducible stream per repeat.
    std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                      static_cast<std::uint32_t>(r)};
    std::mt19937_64 rng(seq);
    std::vector<Fold> one = kfold(n, n_splits, true, rng());
    for (Fold& f : one) folds.push_back(std::move(f));
  }
  return folds;
}

}  // namespace tabula
