// Every op a backend can run, by family. A backend states which ones it runs itself
// (Backend::supports); the others run on the CPU backend, one op at a time. The table-driven
// test tests/backend/backend_ops_test.cpp checks every op listed here on every backend.
#pragma once

#include <array>
#include <cstddef>

namespace tabula {

enum class BackendOpFamily { kLinalg, kLogistic, kForest };

enum class BackendOp {
  // Linear algebra and sufficient statistics (linalg_ops.hpp).
  kGram,
  kCrossProduct,
  kColumnMoments,
  kGemm,
  kGemv,
  kCholeskySolve,
  kSymmetricEigen,
  // Logistic regression (logistic_ops.hpp).
  kLogisticGradientHessian,
  // Histogram forest (forest_ops.hpp).
  kForestBin,
  kForestHistograms,
  kForestHistSubtract,
  kForestBestSplits,
  kForestPartition,
  kForestPredict,
  kForestApply,
};

inline constexpr std::size_t kBackendOpCount = 15;
static_assert(static_cast<std::size_t>(BackendOp::kForestApply) + 1 == kBackendOpCount);

struct BackendOpInfo {
  BackendOp op;
  BackendOpFamily family;
  const char* name;  // as logs and tests print it
};

/// Every op, in enum order.
inline constexpr std::array<BackendOpInfo, kBackendOpCount> kBackendOps{{
    {BackendOp::kGram, BackendOpFamily::kLinalg, "gram"},
    {BackendOp::kCrossProduct, BackendOpFamily::kLinalg, "cross_product"},
    {BackendOp::kColumnMoments, BackendOpFamily::kLinalg, "column_moments"},
    {BackendOp::kGemm, BackendOpFamily::kLinalg, "gemm"},
    {BackendOp::kGemv, BackendOpFamily::kLinalg, "gemv"},
    {BackendOp::kCholeskySolve, BackendOpFamily::kLinalg, "cholesky_solve"},
    {BackendOp::kSymmetricEigen, BackendOpFamily::kLinalg, "symmetric_eigen"},
    {BackendOp::kLogisticGradientHessian, BackendOpFamily::kLogistic, "logistic_gradient_hessian"},
    {BackendOp::kForestBin, BackendOpFamily::kForest, "forest_bin"},
    {BackendOp::kForestHistograms, BackendOpFamily::kForest, "forest_histograms"},
    {BackendOp::kForestHistSubtract, BackendOpFamily::kForest, "forest_hist_subtract"},
    {BackendOp::kForestBestSplits, BackendOpFamily::kForest, "forest_best_splits"},
    {BackendOp::kForestPartition, BackendOpFamily::kForest, "forest_partition"},
    {BackendOp::kForestPredict, BackendOpFamily::kForest, "forest_predict"},
    {BackendOp::kForestApply, BackendOpFamily::kForest, "forest_apply"},
}};

constexpr const BackendOpInfo& info(BackendOp op) {
  return kBackendOps[static_cast<std::size_t>(op)];
}
constexpr const char* to_string(BackendOp op) { return info(op).name; }

// The table is in enum order, so info(op) is one index.
static_assert([] {
  for (std::size_t i = 0; i < kBackendOpCount; ++i)
    if (static_cast<std::size_t>(kBackendOps[i].op) != i) return false;
  return true;
}());

}  // namespace tabula
