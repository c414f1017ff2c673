// Boundary checks for CUDA backend primitives: the shared view checks
// (src/backend/view_checks.hpp) and the conversion of sizes to cuBLAS/cuSOLVER's int.
#pragma once

#include <cstdint>

#include "backend/view_checks.hpp"

namespace tabula::cuda {

/// `value` as an int for cuBLAS/cuSOLVER; throws Error naming `what` when it does not fit.
int to_int(std::int64_t value, const char* what);

}  // namespace tabula::cuda
