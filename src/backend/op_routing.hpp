// How a backend's op families reach their implementations: the backend's own where it supports
// every op of a family, else a router that sends each declined op to the CPU backend, with host
// copies of the views (Backend::supports). Built once per backend, on first use.
#pragma once

#include <array>
#include <memory>
#include <mutex>

#include "tabula/backend/backend.hpp"

namespace tabula {

class OpRouting {
 public:
  explicit OpRouting(Backend& backend);
  ~OpRouting();

  LinalgOps& linalg() { return *linalg_; }
  LogisticOps& logistic() { return *logistic_; }
  ForestOps& forest() { return *forest_; }

  /// Whether `backend_` runs `op` itself; logs once per op when it does not.
  bool runs_natively(BackendOp op);
  Backend& backend() { return backend_; }

 private:
  Backend& backend_;
  std::array<std::once_flag, kBackendOpCount> logged_;
  std::unique_ptr<LinalgOps> linalg_router_;
  std::unique_ptr<LogisticOps> logistic_router_;
  std::unique_ptr<ForestOps> forest_router_;
  LinalgOps* linalg_ = nullptr;
  LogisticOps* logistic_ = nullptr;
  ForestOps* forest_ = nullptr;
};

/// The process's CPU backend, which runs the ops other backends decline.
Backend& host_backend();

}  // namespace tabula
