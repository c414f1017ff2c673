// The histogram reduction of a data-parallel tree fit (forest; usable by any histogram learner):
// each rank holds the histograms of its own rows for a batch of nodes, laid out node-major, one
// unit (a drawn feature: bins x channels values) after another. Either every rank gets the
// sums (all-reduce) and scans every node, or the units are split evenly over the ranks
// (reduce-scatter, half the bytes), each rank scans its units only, and the winners, a few
// numbers per node, are exchanged; every rank then picks each node's split by the one-process
// rule (the first unit, in unit order, of maximal gain), so both give the same splits.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace tabula {
class Communicator;
}

namespace tabula::forest {

/// The best split of one unit, or of one node (the best of its units); `left`: the left side's
/// channel sums.
struct UnitSplit {
  bool found = false;
  std::int32_t feature = -1;
  std::int32_t bin = 0;
  std::uint8_t missing_left = 0;
  double gain = 0.0;
  std::vector<std::int64_t> left;
};

/// Scans `units` summed unit histograms (host memory, unit after unit) whose features are
/// `features` (one per unit) and returns each unit's best split.
using ScanUnits = std::function<std::vector<UnitSplit>(const std::int64_t* hist, std::int64_t units,
                                                       const std::int32_t* features)>;

/// What a rank sent, for the fit's log.
struct ReductionStats {
  std::int64_t collectives = 0;
  std::int64_t bytes = 0;
  std::int64_t scattered = 0;  // levels (batches) reduced by reduce-scatter
};

/// The layout of one batch: `nodes` nodes of `units_per_node` units of `unit_size` values.
struct HistBatch {
  std::int64_t nodes = 0;
  std::int64_t units_per_node = 0;
  std::int64_t unit_size = 0;
  std::int64_t channels = 0;  // UnitSplit::left's size
  /// Every partial sum of every value fits int32 (the caller's proof, e.g. non-negative
  /// channels whose node totals are below 2^31): the values travel as int32.
  bool fits_int32 = false;
};

/// Whether a batch of `bytes` histogram bytes is worth a reduce-scatter over `ranks` ranks
/// (the same answer on every rank): at least `min_bytes` and more than one rank.
bool scatter_pays(std::int64_t bytes, int ranks, std::int64_t min_bytes);

/// The sums of `hist` (batch.nodes x units x unit_size, host memory) over the ranks, in place.
void all_reduce_histograms(Communicator& comm, std::span<std::int64_t> hist, const HistBatch& batch,
                           ReductionStats& stats);

/// Each node's best split over the ranks' summed histograms, by reduce-scatter of the units,
/// `scan` of this rank's units and an exchange of the winners. `features`: one per unit, unit
/// order (batch.nodes x units_per_node). `hist` is not changed. Every rank returns the same
/// splits, those one process's scan of the whole batch picks (first maximal gain in unit
/// order; a node with no valid split has found = false).
std::vector<UnitSplit> scattered_best_splits(Communicator& comm, std::span<const std::int64_t> hist,
                                             const HistBatch& batch,
                                             std::span<const std::int32_t> features,
                                             const ScanUnits& scan, ReductionStats& stats);

/// One batch's units as this rank holds them after the reduce-scatter: units [first, first +
/// count) of the batch, summed over the ranks (count x unit_size values).
struct ScatteredUnits {
  HistBatch batch;
  std::int64_t first = 0;
  std::int64_t count = 0;
  std::vector<std::int64_t> sums;
};

/// scattered_best_splits in two steps, so that a batch's reduce-scatter can run while the
/// next batch is built: reduce_units sums this rank's units of one batch (one collective; it
/// may run on a second thread when Communicator::calls_from_any_thread());
/// exchange_best_splits scans every batch's units and exchanges their winners in one small
/// all-reduce, returning each batch's nodes' splits (features[b]: batch b's, unit order).
ScatteredUnits reduce_units(Communicator& comm, std::span<const std::int64_t> hist,
                            const HistBatch& batch, ReductionStats& stats);
std::vector<std::vector<UnitSplit>> exchange_best_splits(
    Communicator& comm, const std::vector<ScatteredUnits>& parts,
    const std::vector<std::span<const std::int32_t>>& features, const ScanUnits& scan,
    ReductionStats& stats);

/// `best` becomes `candidate` when that is found and of strictly greater gain: applied to
/// candidates in unit order, it keeps the first of maximal gain (the one-process rule).
void keep_better(UnitSplit& best, const UnitSplit& candidate);

}  // namespace tabula::forest
