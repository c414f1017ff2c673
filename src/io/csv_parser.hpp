// Internals of the CSV reader, visible to tests and the fuzzer: parsing with an explicit chunk
// size, so that the "same result for any chunking and thread count" property can be checked
// on small inputs.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "tabula/dataset.hpp"
#include "tabula/io/csv.hpp"

namespace tabula::io::detail {

/// Chunk size read_csv and parse_csv use for `bytes` of text on `threads` threads.
std::size_t default_chunk_bytes(std::size_t bytes, int threads);

/// parse_csv with the body cut into chunks of about `chunk_bytes` (at least 1) at record
/// boundaries. The result and any error do not depend on `chunk_bytes`.
Dataset parse_csv_chunked(std::string_view text, const std::string& source,
                          const CsvOptions& options, std::size_t chunk_bytes);

}  // namespace tabula::io::detail
