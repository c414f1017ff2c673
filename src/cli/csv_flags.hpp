// The CSV flags every command that reads a data file shares: --delimiter and --na-values, and
// where the command decides column types, --categorical and --numeric.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "tabula/io/csv.hpp"

namespace tabula::cli {

/// Adds the flags to `sub`; they fill `settings` when parsed (the delimiter is checked then).
/// `column_types`: also --categorical and --numeric.
void add_csv_flags(CLI::App* sub, io::CsvSettings& settings, bool column_types);

}  // namespace tabula::cli
