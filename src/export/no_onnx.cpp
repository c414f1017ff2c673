// export_onnx in a build without libonnx (Debian's libonnx-dev, installed by scripts/setup.sh).
#include "tabula/core/error.hpp"
#include "tabula/export/onnx.hpp"

namespace tabula {

void export_onnx(const std::string&, const std::string&) {
  throw InputError(
      "ONNX export: this tabula was built without libonnx (apt-get install libonnx-dev, then "
      "rebuild)");
}

}  // namespace tabula
