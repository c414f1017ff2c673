#ifdef TABULA_WITH_ARROW

#include "io/columnar/parquet_numbers.hpp"

#include <arrow/type.h>
#include <parquet/column_reader.h>
#include <parquet/exception.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "tabula/core/error.hpp"

namespace tabula::io::detail {
namespace {

// Values decoded per call: small enough that the batch is still in L2 when it is copied out.
constexpr std::int64_t kBatch = 16384;

parquet::Type::type physical_type_for(arrow::Type::type id) {
  switch (id) {
    case arrow::Type::DOUBLE:
      return parquet::Type::DOUBLE;
    case arrow::Type::FLOAT:
      return parquet::Type::FLOAT;
    case arrow::Type::INT32:
      return parquet::Type::INT32;
    case arrow::Type::INT64:
      return parquet::Type::INT64;
    default:
      return parquet::Type::UNDEFINED;
  }
}

/// One row group's values of a column with `rows` rows appended to `out`.
template <class DType>
void read_row_group(parquet::ColumnReader& column, std::int64_t rows, bool nullable,
                    const std::string& where, std::vector<double>& out, double& largest) {
  using Value = typename DType::c_type;
  auto& typed = static_cast<parquet::TypedColumnReader<DType>&>(column);
  std::vector<Value> values(static_cast<std::size_t>(std::min(rows, kBatch)));
  std::vector<std::int16_t> defined(nullable ? values.size() : 0);
  std::vector<double> spread(nullable ? values.size() : 0);
  for (std::int64_t done = 0; done < rows;) {
    const std::int64_t want = std::min(kBatch, rows - done);
    std::int64_t got_values = 0;
    const std::int64_t got_rows = typed.ReadBatch(want, nullable ? defined.data() : nullptr,
                                                  nullptr, values.data(), &got_values);
    if (got_rows <= 0 || got_rows > want)
      throw InputError(where + " holds fewer values than its " + std::to_string(rows) + " rows");
    const auto n = static_cast<std::size_t>(got_rows);
    for (std::int64_t k = 0; k < got_values; ++k)  // while the batch is in cache
      largest = std::max(largest, std::fabs(static_cast<double>(values[k])));
    if (got_values == got_rows) {
      out.insert(out.end(), values.data(), values.data() + n);
    } else {
      // Values are dense: the k-th present row takes the k-th value.
      const auto present = static_cast<std::int64_t>(
          std::count(defined.begin(), defined.begin() + static_cast<std::ptrdiff_t>(n), 1));
      if (present != got_values)
        throw InputError(where + " has " + std::to_string(got_values) + " values for " +
                         std::to_string(present) + " present rows in a page");
      for (std::size_t i = 0, k = 0; i < n; ++i)
        spread[i] = defined[i] == 1 ? static_cast<double>(values[k++])
                                    : std::numeric_limits<double>::quiet_NaN();
      out.insert(out.end(), spread.data(), spread.data() + n);
    }
    done += got_rows;
  }
  if (typed.HasNext())
    throw InputError(where + " holds more values than its " + std::to_string(rows) + " rows");
}

}  // namespace

bool is_plain_parquet_number(const parquet::ParquetFileReader& file, int c,
                             const arrow::DataType& type) {
  const parquet::SchemaDescriptor& schema = *file.metadata()->schema();
  if (c < 0 || c >= schema.num_columns()) return false;
  const parquet::ColumnDescriptor& column = *schema.Column(c);
  return column.max_repetition_level() == 0 && column.max_definition_level() <= 1 &&
         column.physical_type() == physical_type_for(type.id());
}

double read_parquet_numbers(parquet::ParquetFileReader& file, int c, const std::string& where,
                            int first_group, int last_group, std::vector<double>& out) {
  double largest = 0;
  const std::shared_ptr<parquet::FileMetaData> meta = file.metadata();
  const parquet::ColumnDescriptor& descriptor = *meta->schema()->Column(c);
  const bool nullable = descriptor.max_definition_level() == 1;
  for (int g = first_group; g < last_group; ++g) {
    const std::string place = where + ", row group " + std::to_string(g + 1);
    try {
      const std::int64_t rows = meta->RowGroup(g)->num_rows();
      if (rows < 0) throw InputError(place + " claims " + std::to_string(rows) + " rows");
      if (rows == 0) continue;
      const std::shared_ptr<parquet::ColumnReader> column = file.RowGroup(g)->Column(c);
      switch (descriptor.physical_type()) {
        case parquet::Type::DOUBLE:
          read_row_group<parquet::DoubleType>(*column, rows, nullable, place, out, largest);
          break;
        case parquet::Type::FLOAT:
          read_row_group<parquet::FloatType>(*column, rows, nullable, place, out, largest);
          break;
        case parquet::Type::INT32:
          read_row_group<parquet::Int32Type>(*column, rows, nullable, place, out, largest);
          break;
        case parquet::Type::INT64:
          read_row_group<parquet::Int64Type>(*column, rows, nullable, place, out, largest);
          break;
        default:
          throw InputError(place + ": not a plain number column");
      }
    } catch (const parquet::ParquetException& e) {
      throw InputError(place + ": " + e.what());
    }
  }
  return largest;
}

}  // namespace tabula::io::detail

#endif
