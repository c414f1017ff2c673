// PCA as a pipeline step: fitted by the PCA estimator (include/tabula/models/linear/pca.hpp),
// applied here on a row block of the pipeline's float64 working data.
#include <algorithm>
#include <string>

#include "distributed/reduce.hpp"
#include "pipeline/steps.hpp"
#include "tabula/core/error.hpp"
#include "tabula/models/linear/pca.hpp"

namespace tabula::pipeline {

PcaMap fit_pca(Backend& backend, const StepSpec& step, const std::vector<double>& block,
               std::int64_t rows, std::int64_t d, nlohmann::json& attributes, Communicator* comm) {
  const StepParams p(step, {"n_components", "whiten", "svd_solver", "random_state"});
  ParamMap params = step.params;
  params.erase("random_state");
  const double seed = p.number("random_state", 0.0);
  if (seed < 0 || seed != std::floor(seed)) p.bad("random_state", "an integer >= 0");
  Pca pca(PcaParams::parse(params));
  std::vector<std::int64_t> missing{
      std::count_if(block.begin(), block.end(), [](double v) { return std::isnan(v); })};
  distributed::sum_over_ranks(comm, missing);  // refused on every rank alike
  if (missing[0] > 0)
    throw InputError("PCA: its input has missing values; put a SimpleImputer before it");
  const std::vector<float> x(block.begin(), block.end());
  FitData fit;
  fit.x = MatrixView<const float>::row_major(x.data(), rows, d);
  fit.seed = static_cast<std::uint64_t>(seed);
  fit.comm = comm;
  pca.fit(backend, fit);
  PcaMap m;
  m.d = d;
  m.k = pca.n_components();
  m.mean = pca.mean();
  m.components = pca.components();
  m.scale.assign(static_cast<std::size_t>(m.k), 1.0);
  if (PcaParams::parse(params).whiten)
    for (std::int64_t c = 0; c < m.k; ++c) {
      const double ev = pca.explained_variance()[static_cast<std::size_t>(c)];
      m.scale[static_cast<std::size_t>(c)] = ev > 0.0 ? 1.0 / std::sqrt(ev) : 0.0;
    }
  attributes = pca.summary();
  return m;
}

void PcaMap::apply(const double* in, std::int64_t rows, double* out) const {
  std::vector<double> centred(static_cast<std::size_t>(d));
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t j = 0; j < d; ++j) centred[j] = in[i * d + j] - mean[j];
    for (std::int64_t c = 0; c < k; ++c) {
      const double* w = components.data() + c * d;
      double s = 0.0;
      for (std::int64_t j = 0; j < d; ++j) s += centred[j] * w[j];
      out[i * k + c] = s * scale[c];
    }
  }
}

void MatrixOp::apply(const double* in, std::int64_t rows, double* out) const {
  if (pca) {
    pca->apply(in, rows, out);
    return;
  }
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < width_in; ++j)
      out[i * width_in + j] = maps[static_cast<std::size_t>(j)].apply(in[i * width_in + j]);
}

}  // namespace tabula::pipeline
