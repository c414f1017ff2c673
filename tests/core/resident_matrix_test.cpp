// ResidentMatrix: host data is used in place on the CPU, packed when it is strided.
#include <gtest/gtest.h>

#include <vector>

#include "tabula/core/buffer.hpp"
#include "tabula/core/device_registry.hpp"

namespace tabula {
namespace {

Backend& cpu() { return DeviceRegistry::instance().backend(Device::cpu()); }

TEST(ResidentMatrix, ContiguousHostDataIsUsedInPlaceOnTheCpu) {
  std::vector<float> host = {1, 2, 3, 4, 5, 6};
  const ResidentMatrix<float> resident(cpu(),
                                       MatrixView<const float>::row_major(host.data(), 2, 3));
  const MatrixView<const float> view = resident.view();
  EXPECT_EQ(view.data, host.data());  // no copy of the data set
  EXPECT_EQ(view.rows, 2);
  EXPECT_EQ(view.cols, 3);
  EXPECT_TRUE(view.device.is_cpu());
}

TEST(ResidentMatrix, StridedAndColumnMajorDataIsPackedRowMajor) {
  // 2 x 3 matrix stored with a stride of 4 (one padding value per row).
  std::vector<float> strided = {1, 2, 3, -9, 4, 5, 6, -9};
  const MatrixView<const float> padded{strided.data(), 2, 3, 4, Layout::kRowMajor, Device::cpu()};
  const ResidentMatrix<float> a(cpu(), padded);
  // The same matrix column-major.
  std::vector<float> columns = {1, 4, 2, 5, 3, 6};
  const ResidentMatrix<float> b(cpu(), MatrixView<const float>::col_major(columns.data(), 2, 3));
  for (const ResidentMatrix<float>* r : {&a, &b}) {
    const MatrixView<const float> view = r->view();
    ASSERT_TRUE(view.contiguous());
    ASSERT_EQ(view.layout, Layout::kRowMajor);
    const std::vector<float> expected = {1, 2, 3, 4, 5, 6};
    for (int k = 0; k < 6; ++k) EXPECT_EQ(view.data[k], expected[k]) << "element " << k;
  }
  EXPECT_NE(a.view().data, strided.data());
}

}  // namespace
}  // namespace tabula
