// Native categorical features of gradient boosting: which input columns are categorical
// (scikit-learn's categorical_features resolved against the fit's columns), the checks on their
// codes, and the categories each one showed on the training rows.
#pragma once

#include <cstdint>
#include <vector>

#include "tabula/models/estimator.hpp"
#include "tabula/models/gbdt/gbdt.hpp"

namespace tabula::gbdt {

/// Per column of data.x, 1 when `spec` makes it categorical. InputError naming
/// categorical_features and the offending entry for an unknown name, an index outside 0..d-1 or
/// a mask of another length.
std::vector<std::uint8_t> resolve_categorical(const CategoricalFeatures& spec, const FitData& data);

/// Per column: 0 for a numeric column; for a categorical one, 1 + its largest code on the rows
/// of x (n x d, host). A code is an integer >= 0; negative values and NaN are missing (as in
/// scikit-learn). InputError naming the column and max_bins for a fraction or infinity, or a
/// code >= max_bins (scikit-learn refuses more categories than bins too).
std::vector<std::int32_t> category_counts(MatrixView<const float> x,
                                          const std::vector<std::uint8_t>& categorical,
                                          const FitData& data, int max_bins);

/// x with every value of a categorical column that is not a code below its count (negative,
/// unseen in training) replaced by NaN: the missing category, where scikit-learn sends unknown
/// categories. Other columns untouched. Host, row-major, n x d.
std::vector<float> codes_or_missing(MatrixView<const float> x,
                                    const std::vector<std::int32_t>& counts);

/// Per column, the kForestCategorySetBytes-byte set of the codes present on the rows of x
/// (host; only categorical columns filled): the categories the fit knows.
std::vector<std::uint8_t> known_categories(MatrixView<const float> x,
                                           const std::vector<std::int32_t>& counts);

}  // namespace tabula::gbdt
