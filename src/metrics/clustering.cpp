// Clustering metrics from rows and labels, with sklearn.metrics' definitions and edge cases.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "distributed/reduce.hpp"
#include "metrics/checks.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"
#include "tabula/distributed/communicator.hpp"
#include "tabula/metrics/metrics.hpp"

namespace tabula::metrics {
namespace {

constexpr std::int64_t kRowsPerTask = 64;

// Labels as indices 0..L-1 (sorted distinct values), after checking the inputs agree.
std::vector<std::int64_t> encode(std::string_view metric, Rows x, std::span<const double> labels,
                                 std::int64_t& n_labels, Communicator* comm = nullptr) {
  detail::check_values(metric, "labels", labels);
  if (x.cols <= 0 || static_cast<std::int64_t>(x.values.size()) != x.rows() * x.cols)
    throw InputError(std::string(metric) + ": the rows are not a full matrix");
  if (x.rows() != static_cast<std::int64_t>(labels.size()))
    throw InputError(std::string(metric) + ": " + std::to_string(x.rows()) + " rows but " +
                     std::to_string(labels.size()) + " labels");
  for (float v : x.values)
    if (!std::isfinite(v))
      throw InputError(std::string(metric) + ": the rows contain NaN or infinity");
  std::map<double, std::int64_t> index;
  for (double l : labels) index.emplace(l, 0);
  if (comm != nullptr && comm->size() > 1) {  // every rank's labels
    std::vector<double> mine;
    for (const auto& entry : index) mine.push_back(entry.first);
    std::string bytes(mine.size() * sizeof(double), '\0');
    if (!mine.empty()) std::memcpy(bytes.data(), mine.data(), bytes.size());
    for (const std::string& part : comm->all_gather(bytes))
      for (std::size_t at = 0; at + sizeof(double) <= part.size(); at += sizeof(double)) {
        double l = 0.0;
        std::memcpy(&l, part.data() + at, sizeof(double));
        index.emplace(l, 0);
      }
  }
  n_labels = 0;
  for (auto& [label, i] : index) i = n_labels++;
  std::vector<std::int64_t> out(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i) out[i] = index[labels[i]];
  return out;
}

void check_label_count(std::string_view metric, std::int64_t n_labels, std::int64_t n) {
  if (n_labels < 2 || n_labels > n - 1)
    throw InputError(std::string(metric) + ": number of labels is " + std::to_string(n_labels) +
                     "; valid values are 2 to n_samples - 1 (inclusive)");
}

// Per-cluster means (L x d) and counts (of every rank's rows with a comm).
void centroids(Rows x, const std::vector<std::int64_t>& labels, std::int64_t n_labels,
               std::vector<double>& means, std::vector<double>& counts,
               Communicator* comm = nullptr) {
  const std::int64_t d = x.cols;
  means.assign(static_cast<std::size_t>(n_labels * d), 0.0);
  counts.assign(static_cast<std::size_t>(n_labels), 0.0);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    counts[labels[i]] += 1.0;
    for (std::int64_t j = 0; j < d; ++j) means[labels[i] * d + j] += x.values[i * d + j];
  }
  distributed::sum_over_ranks(comm, means);
  distributed::sum_over_ranks(comm, counts);
  for (std::int64_t c = 0; c < n_labels; ++c)
    for (std::int64_t j = 0; j < d; ++j) means[c * d + j] /= counts[c];
}

double distance(const float* a, const double* b, std::int64_t d) {
  double s = 0.0;
  for (std::int64_t j = 0; j < d; ++j) s += (a[j] - b[j]) * (a[j] - b[j]);
  return std::sqrt(s);
}

double silhouette_exact(Rows x, const std::vector<std::int64_t>& labels, std::int64_t n_labels) {
  const std::int64_t n = x.rows(), d = x.cols;
  std::vector<double> counts(static_cast<std::size_t>(n_labels), 0.0);
  for (std::int64_t l : labels) counts[l] += 1.0;
  std::vector<double> s(static_cast<std::size_t>(n), 0.0);
  parallel_blocks(n, kRowsPerTask, [&](std::int64_t begin, std::int64_t end) {
    std::vector<double> sums(static_cast<std::size_t>(n_labels));
    for (std::int64_t i = begin; i < end; ++i) {
      std::fill(sums.begin(), sums.end(), 0.0);
      const float* xi = x.values.data() + i * d;
      for (std::int64_t r = 0; r < n; ++r) {
        const float* xr = x.values.data() + r * d;
        double q = 0.0;
        for (std::int64_t j = 0; j < d; ++j) {
          const double diff = static_cast<double>(xi[j]) - xr[j];
          q += diff * diff;
        }
        sums[labels[r]] += std::sqrt(q);
      }
      const std::int64_t own = labels[i];
      if (counts[own] <= 1.0) continue;  // alone in its cluster: 0
      const double a = sums[own] / (counts[own] - 1.0);
      double b = std::numeric_limits<double>::infinity();
      for (std::int64_t c = 0; c < n_labels; ++c)
        if (c != own) b = std::min(b, sums[c] / counts[c]);
      const double denom = std::max(a, b);
      s[i] = denom > 0.0 ? (b - a) / denom : 0.0;
    }
  });
  return std::accumulate(s.begin(), s.end(), 0.0) / static_cast<double>(n);
}

// The rows silhouette() scores: a partial Fisher-Yates over n rows, whose first sample_size
// slots are a uniform sample without replacement.
std::vector<std::int64_t> sample_order(std::int64_t n, std::int64_t sample_size,
                                       std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  for (std::int64_t i = 0; i < sample_size; ++i) {
    std::uniform_int_distribution<std::int64_t> pick(i, n - 1);
    std::swap(order[i], order[pick(rng)]);
  }
  return order;
}

// silhouette() over ranks: the rows it scores (the one-process sample, or every row) gathered
// on every rank in the one-process order, then scored as one process scores them.
double silhouette_over_ranks(Rows x, std::span<const double> labels, std::int64_t sample_size,
                             std::uint64_t seed, Communicator& comm) {
  if (sample_size < 0) throw InputError("silhouette: sample_size must be >= 0");
  const std::int64_t d = x.cols;
  const distributed::RowRange range = distributed::row_range(&comm, x.rows());
  const std::int64_t n = range.total;
  const bool sampled = sample_size > 0 && sample_size < n;
  const std::int64_t scored = sampled ? sample_size : n;
  std::vector<std::int64_t> order;
  if (sampled) order = sample_order(n, sample_size, seed);
  // Each of this rank's scored rows: its slot, its label, its values.
  const std::size_t record = sizeof(std::int64_t) + sizeof(double) + d * sizeof(float);
  std::string bytes;
  for (std::int64_t slot = 0; slot < scored; ++slot) {
    const std::int64_t row = (sampled ? order[slot] : slot) - range.offset;
    if (row < 0 || row >= x.rows()) continue;
    const std::size_t at = bytes.size();
    bytes.resize(at + record);
    std::memcpy(bytes.data() + at, &slot, sizeof(slot));
    std::memcpy(bytes.data() + at + sizeof(slot), &labels[row], sizeof(double));
    std::memcpy(bytes.data() + at + sizeof(slot) + sizeof(double), x.values.data() + row * d,
                d * sizeof(float));
  }
  std::vector<float> values(static_cast<std::size_t>(scored * d));
  std::vector<double> scored_labels(static_cast<std::size_t>(scored));
  std::int64_t filled = 0;
  for (const std::string& part : comm.all_gather(bytes)) {
    if (part.size() % record != 0) throw Error("silhouette: a rank sent malformed rows");
    for (std::size_t at = 0; at < part.size(); at += record, ++filled) {
      std::int64_t slot = 0;
      std::memcpy(&slot, part.data() + at, sizeof(slot));
      if (slot < 0 || slot >= scored) throw Error("silhouette: a rank sent a row out of range");
      std::memcpy(&scored_labels[slot], part.data() + at + sizeof(slot), sizeof(double));
      std::memcpy(values.data() + slot * d, part.data() + at + sizeof(slot) + sizeof(double),
                  d * sizeof(float));
    }
  }
  if (filled != scored) throw Error("silhouette: the ranks' rows do not add up");
  return silhouette(Rows{values, d}, scored_labels, 0, seed, nullptr);
}

}  // namespace

double inertia(Rows x, std::span<const double> labels, Communicator* comm) {
  std::int64_t n_labels = 0;
  const std::vector<std::int64_t> l = encode("inertia", x, labels, n_labels, comm);
  std::vector<double> means, counts;
  centroids(x, l, n_labels, means, counts, comm);
  const std::int64_t d = x.cols;
  double total = 0.0;
  for (std::size_t i = 0; i < l.size(); ++i)
    for (std::int64_t j = 0; j < d; ++j) {
      const double diff = x.values[i * d + j] - means[l[i] * d + j];
      total += diff * diff;
    }
  return distributed::sum_over_ranks(comm, total);
}

double silhouette(Rows x, std::span<const double> labels, std::int64_t sample_size,
                  std::uint64_t seed, Communicator* comm) {
  if (comm != nullptr && comm->size() > 1)
    return silhouette_over_ranks(x, labels, sample_size, seed, *comm);
  std::int64_t n_labels = 0;
  std::vector<std::int64_t> l = encode("silhouette", x, labels, n_labels);
  const std::int64_t n = x.rows(), d = x.cols;
  if (sample_size < 0) throw InputError("silhouette: sample_size must be >= 0");
  if (sample_size == 0 || sample_size >= n) {
    check_label_count("silhouette", n_labels, n);
    return silhouette_exact(x, l, n_labels);
  }
  const std::vector<std::int64_t> order = sample_order(n, sample_size, seed);
  std::vector<float> values(static_cast<std::size_t>(sample_size * d));
  std::vector<double> sampled_labels(static_cast<std::size_t>(sample_size));
  for (std::int64_t i = 0; i < sample_size; ++i) {
    std::copy_n(x.values.data() + order[i] * d, d, values.data() + i * d);
    sampled_labels[i] = labels[order[i]];
  }
  const Rows sample{values, d};
  l = encode("silhouette", sample, sampled_labels, n_labels);
  check_label_count("silhouette", n_labels, sample_size);
  return silhouette_exact(sample, l, n_labels);
}

double davies_bouldin(Rows x, std::span<const double> labels, Communicator* comm) {
  std::int64_t n_labels = 0;
  const std::vector<std::int64_t> l = encode("davies_bouldin", x, labels, n_labels, comm);
  check_label_count("davies_bouldin", n_labels, distributed::row_range(comm, x.rows()).total);
  const std::int64_t d = x.cols;
  std::vector<double> means, counts;
  centroids(x, l, n_labels, means, counts, comm);
  std::vector<double> intra(static_cast<std::size_t>(n_labels), 0.0);
  for (std::size_t i = 0; i < l.size(); ++i)
    intra[l[i]] += distance(x.values.data() + i * d, means.data() + l[i] * d, d);
  distributed::sum_over_ranks(comm, intra);
  for (std::int64_t c = 0; c < n_labels; ++c) intra[c] /= counts[c];
  std::vector<double> between(static_cast<std::size_t>(n_labels * n_labels), 0.0);
  bool all_intra_zero = true, all_between_zero = true;
  for (double v : intra) all_intra_zero = all_intra_zero && std::abs(v) <= 1e-8;
  for (std::int64_t a = 0; a < n_labels; ++a)
    for (std::int64_t b = 0; b < n_labels; ++b) {
      double s = 0.0;
      for (std::int64_t j = 0; j < d; ++j)
        s += (means[a * d + j] - means[b * d + j]) * (means[a * d + j] - means[b * d + j]);
      between[a * n_labels + b] = std::sqrt(s);
      all_between_zero = all_between_zero && between[a * n_labels + b] <= 1e-8;
    }
  if (all_intra_zero || all_between_zero) return 0.0;  // sklearn's degenerate cases
  double total = 0.0;
  for (std::int64_t a = 0; a < n_labels; ++a) {
    double worst = 0.0;
    for (std::int64_t b = 0; b < n_labels; ++b) {
      const double between_ab = between[a * n_labels + b];
      if (between_ab == 0.0) continue;  // sklearn: a zero distance counts as infinite
      worst = std::max(worst, (intra[a] + intra[b]) / between_ab);
    }
    total += worst;
  }
  return total / static_cast<double>(n_labels);
}

}  // namespace tabula::metrics
