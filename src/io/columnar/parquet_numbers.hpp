// Plain Parquet number columns decoded straight into the engine's float64 columns, a cache-sized
// batch at a time, without the Arrow table in between: the whole-file reader's fast path (half
// the memory traffic of decoding into Arrow buffers and converting those).
#pragma once

#ifdef TABULA_WITH_ARROW

#include <arrow/type_fwd.h>

#include <cstdint>
#include <string>
#include <vector>

namespace parquet {
class ParquetFileReader;
}

namespace tabula::io::detail {

/// Whether leaf column `c` of `file`, read by Arrow as `type`, is a flat (not repeated) DOUBLE,
/// FLOAT, INT32 or INT64 column that Arrow reads as that same type: no date, timestamp,
/// decimal, unsigned or narrow integer meaning on top.
bool is_plain_parquet_number(const parquet::ParquetFileReader& file, int c,
                             const arrow::DataType& type);

/// Every value of leaf column `c` in row groups [first_group, last_group) (in order) appended to
/// `out` as float64, NaN for nulls; returns the largest magnitude (NaN ignored), for the
/// caller's range check. InputError starting with `where` for damaged data, or a column that
/// holds more or fewer values than its row groups' rows. The caller checks the group range.
double read_parquet_numbers(parquet::ParquetFileReader& file, int c, const std::string& where,
                            int first_group, int last_group, std::vector<double>& out);

}  // namespace tabula::io::detail

#endif
