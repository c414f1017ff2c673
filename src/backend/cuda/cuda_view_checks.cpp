#include "backend/cuda/cuda_view_checks.hpp"

#include <limits>
#include <string>

#include "tabula/core/error.hpp"

namespace tabula::cuda {

int to_int(std::int64_t value, const char* what) {
  if (value < 0 || value > std::numeric_limits<int>::max())
    throw Error(std::string(what) + " is " + std::to_string(value) +
                ", beyond what cuBLAS/cuSOLVER take (32-bit int)");
  return static_cast<int>(value);
}

}  // namespace tabula::cuda
