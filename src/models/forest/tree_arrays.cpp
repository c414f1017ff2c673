// The flat tree arrays' file sections, checks and backend view (see tree_arrays.hpp).
#include "models/forest/tree_arrays.hpp"

#include <atomic>
#include <cmath>
#include <limits>
#include <span>
#include <vector>

#include "artifact/validate.hpp"
#include "tabula/artifact/artifact.hpp"

namespace tabula::forest {
namespace {

std::atomic<std::int64_t> g_uploads{0};

}  // namespace

void write_trees(ArtifactWriter& out, const std::string& prefix, const ForestModel& m) {
  const std::int64_t nodes = m.n_nodes();
  out.add(prefix + ".offsets", std::span<const std::int64_t>(m.offsets), {m.n_trees() + 1});
  out.add(prefix + ".feature", std::span<const std::int32_t>(m.feature), {nodes});
  out.add(prefix + ".threshold", std::span<const float>(m.threshold), {nodes});
  out.add(prefix + ".left", std::span<const std::int32_t>(m.left), {nodes});
  out.add(prefix + ".right", std::span<const std::int32_t>(m.right), {nodes});
  out.add(prefix + ".missing_left", std::span<const std::uint8_t>(m.missing_left), {nodes});
  out.add(prefix + ".n_samples", std::span<const std::int64_t>(m.n_samples), {nodes});
  out.add(prefix + ".values", std::span<const double>(m.values), {nodes, m.value_size});
  if (!m.has_category_splits()) return;
  // Older readers would walk these nodes as threshold splits: the file needs format 3.
  out.require_format_version(3);
  out.add(prefix + ".category_set", std::span<const std::int32_t>(m.category_set), {nodes});
  out.add(prefix + ".category_bits", std::span<const std::uint8_t>(m.category_bits),
          {static_cast<std::int64_t>(m.category_bits.size()) / kForestCategorySetBytes,
           kForestCategorySetBytes});
}

ForestModel read_trees(const ArtifactReader& in, const std::string& prefix,
                       std::int64_t value_size) {
  ForestModel m;
  m.offsets = in.int64s(prefix + ".offsets");
  m.feature = in.int32s(prefix + ".feature");
  m.threshold = in.floats(prefix + ".threshold");
  m.left = in.int32s(prefix + ".left");
  m.right = in.int32s(prefix + ".right");
  m.missing_left = in.uint8s(prefix + ".missing_left");
  m.n_samples = in.int64s(prefix + ".n_samples");
  m.values = in.doubles(prefix + ".values");
  m.value_size = value_size;
  if (in.has(prefix + ".category_set")) {
    m.category_set = in.int32s(prefix + ".category_set");
    m.category_bits = in.uint8s(prefix + ".category_bits");
  }
  return m;
}

namespace {

// Categorical splits: one set index per node, each set used by exactly one split node, whole
// sets of bytes.
void validate_category_sets(const ForestModel& m, const std::string& prefix) {
  using namespace artifact;
  if (m.category_set.empty() && m.category_bits.empty()) return;
  const auto nodes = static_cast<std::int64_t>(m.feature.size());
  expect_size(prefix + ".category_set", static_cast<std::int64_t>(m.category_set.size()), nodes,
              "the model has " + std::to_string(nodes) + " nodes");
  const auto bytes = static_cast<std::int64_t>(m.category_bits.size());
  if (bytes % kForestCategorySetBytes != 0)
    field_error(prefix + ".category_bits", std::to_string(bytes) + " bytes: not whole sets of " +
                                               std::to_string(kForestCategorySetBytes));
  const std::int64_t sets = bytes / kForestCategorySetBytes;
  std::vector<std::uint8_t> used(static_cast<std::size_t>(sets), 0);
  for (std::int64_t g = 0; g < nodes; ++g) {
    const std::int32_t s = m.category_set[static_cast<std::size_t>(g)];
    if (s == -1) continue;
    if (s < -1 || s >= sets || m.feature[static_cast<std::size_t>(g)] < 0 ||
        used[static_cast<std::size_t>(s)]++ > 0)
      field_error(prefix + ".category_set", "node " + std::to_string(g) + " names set " +
                                                std::to_string(s) + " of " + std::to_string(sets) +
                                                " (a split node's own set, or -1)");
  }
}

}  // namespace

void validate_trees(const ForestModel& m, const std::string& prefix, std::int64_t n_features) {
  using namespace artifact;
  const auto field = [&](const char* name) { return prefix + "." + name; };
  if (m.offsets.size() < 2 || m.offsets.front() != 0)
    field_error(field("offsets"), "must start at 0 and hold n_trees + 1 >= 2 entries");
  const auto nodes = static_cast<std::int64_t>(m.feature.size());
  expect_size(field("offsets"), m.offsets.back(), nodes, field("feature") + " has that many nodes");
  const std::string per_node = "the model has " + std::to_string(nodes) + " nodes";
  expect_size(field("threshold"), static_cast<std::int64_t>(m.threshold.size()), nodes, per_node);
  expect_size(field("left"), static_cast<std::int64_t>(m.left.size()), nodes, per_node);
  expect_size(field("right"), static_cast<std::int64_t>(m.right.size()), nodes, per_node);
  expect_size(field("missing_left"), static_cast<std::int64_t>(m.missing_left.size()), nodes,
              per_node);
  expect_size(field("n_samples"), static_cast<std::int64_t>(m.n_samples.size()), nodes, per_node);
  expect_size(field("values"), static_cast<std::int64_t>(m.values.size()),
              checked_product(field("values"), nodes, m.value_size),
              per_node + " x " + std::to_string(m.value_size) + " values");
  expect_finite(field("values"), m.values);
  validate_category_sets(m, prefix);
  for (std::size_t t = 0; t + 1 < m.offsets.size(); ++t) {
    const std::int64_t b = m.offsets[t], e = m.offsets[t + 1];
    if (e <= b || e - b > std::numeric_limits<std::int32_t>::max())
      field_error(field("offsets"), "tree " + std::to_string(t) + " has no nodes or too many");
    // Every node but the root has exactly one parent: a tree, with no node left unreachable.
    std::vector<std::uint8_t> parents(static_cast<std::size_t>(e - b), 0);
    for (std::int64_t g = b; g < e; ++g) {
      const auto ug = static_cast<std::size_t>(g);
      if (m.feature[ug] < 0) continue;
      const std::string node = "tree " + std::to_string(t) + " node " + std::to_string(g - b);
      if (m.feature[ug] >= n_features)
        field_error(field("feature"), node + " reads feature " + std::to_string(m.feature[ug]) +
                                          " of " + std::to_string(n_features));
      // +-inf is a real threshold (a split on the missing-value bin); NaN compares false.
      if (std::isnan(m.threshold[ug]))
        field_error(field("threshold"), node + ": the threshold is NaN");
      for (const auto* child : {&m.left, &m.right})
        if ((*child)[ug] <= g - b || (*child)[ug] >= e - b)
          field_error(field(child == &m.left ? "left" : "right"),
                      node + ": child " + std::to_string((*child)[ug]) +
                          " is not a later node of the same tree");
        else if (parents[static_cast<std::size_t>((*child)[ug])]++ > 0)
          field_error(field("left"),
                      node + ": child " + std::to_string((*child)[ug]) + " has two parents");
    }
    for (std::size_t i = 1; i < parents.size(); ++i)
      if (parents[i] == 0)
        field_error(field("left"),
                    "tree " + std::to_string(t) + " node " + std::to_string(i) + " is unreachable");
  }
}

DeviceTrees::DeviceTrees(Backend& backend, const ForestModel& m)
    : offsets(backend, m.offsets),
      feature(backend, m.feature),
      threshold(backend, m.threshold),
      left(backend, m.left),
      right(backend, m.right),
      missing_left(backend, m.missing_left),
      values(backend, m.values),
      category_set(backend, m.category_set),
      category_bits(backend, m.category_bits) {
  g_uploads.fetch_add(1, std::memory_order_relaxed);
}

ForestTrees DeviceTrees::view(const ForestModel& m, ForestTraversalCache* cache) const {
  ForestTrees trees{offsets.view(),      feature.view(),      threshold.view(), left.view(),
                    right.view(),        missing_left.view(), values.view(),    m.value_size,
                    category_set.view(), category_bits.view()};
  trees.cache = cache;
  return trees;
}

std::int64_t device_tree_uploads() { return g_uploads.load(std::memory_order_relaxed); }

}  // namespace tabula::forest
