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

/// Holdout that keeps groups whole (scikit-learn's GroupShuffleSplit, one split): `groups` holds
/// one group id 0..n_groups-1 per row; ceil(test_size * n_groups) groups, drawn by the seed, go
/// to the test part. InputError when either part would hold no group.
TrainTestSplit group_train_test_split(std::span<const std::int64_t> groups, double test_size,
                                      std::uint64_t seed);

// ---- Cross-validation splitters (scikit-learn's model_selection) ------------------------------
// Each works on positions 0..n-1 (the caller maps them to dataset rows) and returns folds whose
// index sets are in ascending order. InputError, before any work, as the messages say.

/// One fold: the rows to fit on and the rows to score on (disjoint).
struct Fold {
  std::vector<std::int64_t> train;
  std::vector<std::int64_t> test;
};

/// KFold: consecutive blocks of the (optionally shuffled) positions; the first n % k folds get
/// one row more. InputError for n_splits < 2 or more folds than rows.
std::vector<Fold> kfold(std::int64_t n, int n_splits, bool shuffle, std::uint64_t seed);

/// StratifiedKFold with sklearn's allocation: classes ordered by first appearance, the sorted
/// class sequence dealt to folds round-robin, so each class's count per fold is within one of
/// count / k and fold sizes equal sklearn's. With `shuffle`, each class's fold labels are
/// shuffled (seeded). `classes` holds class indices (any non-negative whole numbers).
/// InputError for n_splits < 2, more folds than rows, or a class with fewer members than folds
/// (sklearn only warns; here a fold without a class would make per-fold scores meaningless).
std::vector<Fold> stratified_kfold(std::span<const double> classes, int n_splits, bool shuffle,
                                   std::uint64_t seed);

/// GroupKFold: a group's rows are never split; groups (largest first) go to the fold with the
/// fewest rows so far, as sklearn. `groups` holds one group id per position. InputError for
/// fewer distinct groups than folds (one group included).
std::vector<Fold> group_kfold(std::span<const std::int64_t> groups, int n_splits);

/// TimeSeriesSplit over positions already in time order: fold i tests the i-th of n_splits
/// blocks of n / (n_splits + 1) rows at the end and trains on every row before it (minus `gap`
/// rows; at most max_train_size rows when > 0). Training rows always precede test rows.
/// InputError when there are too few rows for the folds.
std::vector<Fold> time_series_split(std::int64_t n, int n_splits, std::int64_t gap = 0,
                                    std::int64_t max_train_size = 0);

/// RepeatedKFold: n_repeats shuffled KFolds, repeat r seeded from (seed, r); n_splits x
/// n_repeats folds, repeat-major. InputError for n_repeats < 1 and as kfold.
std::vector<Fold> repeated_kfold(std::int64_t n, int n_splits, int n_repeats, std::uint64_t seed);

}  // namespace tabula
