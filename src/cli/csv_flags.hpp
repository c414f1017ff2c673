// The CSV flags every command that reads a data file shares: --delimiter and --na-values, and
// where the command decides column types, --categorical, --numeric, --date and --date-format.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "tabula/io/csv.hpp"
#include "tabula/pipeline/pipeline.hpp"

namespace tabula::cli {

/// Adds the flags to `sub`; they fill `settings` when parsed (the delimiter is checked then).
/// `column_types`: also --categorical and --numeric.
void add_csv_flags(CLI::App* sub, io::CsvSettings& settings, bool column_types);

/// --date COL... and --date-format: the pipeline's date branch (see PipelineOverrides).
void add_date_flags(CLI::App* sub, PipelineOverrides& overrides);

/// The --date columns are read as text, so "20240131" stays a date and is not a number.
void read_dates_as_text(const PipelineOverrides& overrides, io::CsvSettings& settings);

}  // namespace tabula::cli
