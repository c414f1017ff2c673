#include "backend/cuda/cuda_view_checks.hpp"

#include <limits>

#include "core/check.hpp"

namespace tabula::cuda {

int to_int(std::int64_t value, const char* what) {
  TABULA_CHECK(value >= 0 && value <= std::numeric_limits<int>::max(),
               "{} is {}, beyond what cuBLAS/cuSOLVER take (32-bit int)", what, value);
  return static_cast<int>(value);
}

}  // namespace tabula::cuda
