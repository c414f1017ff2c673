// What the ranks of a data-parallel fit must agree on before any fitting: the same columns with
// the same types and the same task, and one numbering of the classes over every rank's rows.
#pragma once

#include <cstdint>

#include "tabula/artifact/model_file.hpp"
#include "tabula/core/dataset.hpp"
#include "tabula/training/training.hpp"

namespace tabula {

class Communicator;

namespace distributed {

/// DistributedError on every rank unless every rank's share has rank 0's feature columns (names,
/// order, types), target column (name and type) and task; the message names each rank that
/// differs and how. (Text columns are welcome: each share numbers its categories itself, and the
/// pipeline's fit merges them by value over the ranks.)
void check_same_table(const Dataset& data, const TaskChoice& choice, Communicator& comm);

/// The union of every rank's class labels in `schema` (sorted as encode_target sorts them:
/// numbers ascending, text by bytes), the same on every rank. Returns true when this rank's
/// labels changed (its targets must be encoded again).
bool unite_class_labels(ModelSchema& schema, Communicator& comm);

/// The sum of `count` over every rank.
std::int64_t total_over_ranks(std::int64_t count, Communicator& comm);

}  // namespace distributed
}  // namespace tabula
