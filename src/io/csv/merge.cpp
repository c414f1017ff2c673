// The chunks, parsed in parallel, become one column each in file order: the result does not
// depend on how the text was cut.
#include <algorithm>
#include <limits>

#include "io/csv/chunk.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula::io::detail {
namespace {

Column empty_column(std::string name, ColumnType type) {
  Column column;
  column.name = std::move(name);
  column.type = type;
  return column;
}

}  // namespace

std::vector<std::size_t> chunk_row_offsets(const std::vector<ChunkColumns>& chunks) {
  std::vector<std::size_t> row_offsets(chunks.size() + 1, 0);
  for (std::size_t i = 0; i < chunks.size(); ++i)
    row_offsets[i + 1] = row_offsets[i] + static_cast<std::size_t>(chunks[i].rows);
  return row_offsets;
}

Column merge_numeric(std::string name, std::vector<ChunkColumns>& chunks, std::size_t j,
                     const std::vector<std::size_t>& row_offsets) {
  Column column = empty_column(std::move(name), ColumnType::kNumeric);
  column.numeric.resize(row_offsets.back());
  parallel_for(static_cast<std::int64_t>(chunks.size()), [&](std::int64_t c) {
    std::vector<double>& part = chunks[static_cast<std::size_t>(c)].numeric[j];
    std::copy(part.begin(), part.end(),
              column.numeric.begin() + static_cast<std::ptrdiff_t>(row_offsets[c]));
    part = {};
  });
  return column;
}

Column merge_strings(std::string name, std::vector<ChunkColumns>& chunks, std::size_t j,
                     const std::vector<std::size_t>& row_offsets) {
  Column column = empty_column(std::move(name), ColumnType::kCategorical);
  std::vector<std::string_view> all;
  for (const ChunkColumns& chunk : chunks)
    all.insert(all.end(), chunk.dictionaries[j].values.begin(), chunk.dictionaries[j].values.end());
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  if (all.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    throw InputError("column '" + column.name + "' has more than 2^31 distinct values");
  column.codes.resize(row_offsets.back());
  parallel_for(static_cast<std::int64_t>(chunks.size()), [&](std::int64_t c) {
    ChunkColumns& chunk = chunks[static_cast<std::size_t>(c)];
    std::vector<std::int32_t> recode(chunk.dictionaries[j].values.size());
    for (std::size_t k = 0; k < recode.size(); ++k)
      recode[k] = static_cast<std::int32_t>(
          std::lower_bound(all.begin(), all.end(), chunk.dictionaries[j].values[k]) - all.begin());
    std::int32_t* out = column.codes.data() + row_offsets[c];
    for (std::int32_t code : chunk.codes[j]) *out++ = code < 0 ? -1 : recode[code];
    chunk.codes[j] = {};
  });
  column.categories.assign(all.begin(), all.end());
  return column;
}

}  // namespace tabula::io::detail
