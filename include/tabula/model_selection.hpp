// Holding out a test set: scikit-learn's train_test_split, plain or stratified by class.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace tabula {

/// Row indices of the two parts, each in ascending order; together they are 0..n-1, once each.
struct TrainTestSplit {
  std::vector<std::int64_t> train;
  std::vector<std::int64_t> test;
};

/// Shuffled holdout of `n` rows: the test part has ceil(test_size * n) rows and the train part
/// the rest, as sklearn. test_size in (0, 1); InputError when either part would be empty.
/// Same seed, same split (on every platform; the draws are not NumPy's).
TrainTestSplit train_test_split(std::int64_t n, double test_size, std::uint64_t seed);

/// Stratified holdout for classification. `classes` holds one class index 0..n_classes-1 per
/// row. Sizes are those of train_test_split; each class is split in proportion, with the
/// remainders allocated as sklearn's StratifiedShuffleSplit does (largest fractional parts
/// first, ties broken by the seed), so each class's test count is within one of
/// test_size * count. InputError, as sklearn: a class with fewer than 2 rows, or a part with
/// fewer rows than there are classes.
TrainTestSplit stratified_train_test_split(std::span<const double> classes, int n_classes,
                                           double test_size, std::uint64_t seed);

}  // namespace tabula
