#include "distributed/reduce.hpp"

#include <algorithm>
#include <cstring>
#include <span>
#include <string>

#include "tabula/distributed/communicator.hpp"

namespace tabula::distributed {

void sum_over_ranks(Communicator* comm, std::vector<double>& values) {
  if (comm != nullptr && comm->size() > 1) comm->all_reduce_sum(std::span<double>(values));
}

void sum_over_ranks(Communicator* comm, std::vector<std::int64_t>& values) {
  if (comm != nullptr && comm->size() > 1) comm->all_reduce_sum(std::span<std::int64_t>(values));
}

double sum_over_ranks(Communicator* comm, double value) {
  if (comm != nullptr && comm->size() > 1) comm->all_reduce_sum(std::span<double>(&value, 1));
  return value;
}

double max_over_ranks(Communicator* comm, double value) {
  if (comm == nullptr || comm->size() == 1) return value;
  std::string bytes(sizeof(double), '\0');
  std::memcpy(bytes.data(), &value, sizeof(double));
  for (const std::string& part : comm->all_gather(bytes)) {
    double theirs = 0.0;
    std::memcpy(&theirs, part.data(), sizeof(double));
    value = std::max(value, theirs);
  }
  return value;
}

std::vector<float> gather_over_ranks(Communicator* comm, const std::vector<float>& mine) {
  if (comm == nullptr || comm->size() == 1) return mine;
  std::string bytes(mine.size() * sizeof(float), '\0');
  if (!mine.empty()) std::memcpy(bytes.data(), mine.data(), bytes.size());
  std::vector<float> all;
  for (const std::string& part : comm->all_gather(bytes)) {
    const std::size_t at = all.size();
    all.resize(at + part.size() / sizeof(float));
    if (!part.empty()) std::memcpy(all.data() + at, part.data(), part.size());
  }
  return all;
}

RowRange row_range(Communicator* comm, std::int64_t rows) {
  if (comm == nullptr || comm->size() == 1) return {0, rows};
  std::vector<std::int64_t> counts(static_cast<std::size_t>(comm->size()), 0);
  counts[static_cast<std::size_t>(comm->rank())] = rows;
  comm->all_reduce_sum(std::span<std::int64_t>(counts));
  RowRange range;
  for (int r = 0; r < comm->size(); ++r) {
    if (r < comm->rank()) range.offset += counts[static_cast<std::size_t>(r)];
    range.total += counts[static_cast<std::size_t>(r)];
  }
  return range;
}

void merge_moments(Communicator* comm, double& weight_sum, std::vector<double>& mean,
                   std::vector<double>& var) {
  if (comm == nullptr || comm->size() == 1) return;
  const std::size_t d = mean.size();
  std::vector<double> mine{weight_sum};
  mine.insert(mine.end(), mean.begin(), mean.end());
  mine.insert(mine.end(), var.begin(), var.end());
  std::string bytes(mine.size() * sizeof(double), '\0');
  std::memcpy(bytes.data(), mine.data(), bytes.size());
  const std::vector<std::string> parts = comm->all_gather(bytes);

  std::vector<double> part(mine.size());
  double total = 0.0;
  std::vector<double> sum_squares(d, 0.0);  // Σ w (x - mean)² so far
  for (std::size_t r = 0; r < parts.size(); ++r) {
    std::memcpy(part.data(), parts[r].data(), bytes.size());
    const double w = part[0];
    const double merged = total + w;
    for (std::size_t j = 0; j < d; ++j) {
      const double part_mean = part[1 + j], part_var = part[1 + d + j];
      if (total == 0.0) {  // the first rank with weight (a rank may have none: a scaler's
                           // column with no present value in its rows)
        mean[j] = part_mean;
        sum_squares[j] = w * part_var;
        continue;
      }
      const double delta = part_mean - mean[j];
      mean[j] += delta * w / merged;
      sum_squares[j] += w * part_var + delta * delta * total * w / merged;
    }
    total = merged;
  }
  for (std::size_t j = 0; j < d; ++j) var[j] = sum_squares[j] / total;
  weight_sum = total;
}

}  // namespace tabula::distributed
