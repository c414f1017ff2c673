// libFuzzer target for the CSV reader. Any input must give a Dataset or an InputError, never a
// crash, a hang or a leak; and parsing the body in tiny chunks on several threads must give the
// same Dataset, or the same error message, as parsing it in one piece.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "io/csv/parser.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"
#include "tabula/io/csv.hpp"

namespace {

using tabula::Column;
using tabula::Dataset;

bool same_column(const Column& a, const Column& b) {
  if (a.name != b.name || a.type != b.type || a.codes != b.codes || a.categories != b.categories ||
      a.numeric.size() != b.numeric.size())
    return false;
  for (std::size_t i = 0; i < a.numeric.size(); ++i) {
    const bool nan_a = std::isnan(a.numeric[i]), nan_b = std::isnan(b.numeric[i]);
    if (nan_a != nan_b || (!nan_a && a.numeric[i] != b.numeric[i])) return false;
  }
  for (std::int32_t code : a.codes)
    if (code < -1 || code >= static_cast<std::int32_t>(a.categories.size())) return false;
  return true;
}

bool same(const Dataset& a, const Dataset& b) {
  if (a.columns.size() != b.columns.size() || a.target.has_value() != b.target.has_value())
    return false;
  for (std::size_t j = 0; j < a.columns.size(); ++j)
    if (!same_column(a.columns[j], b.columns[j]) || a.columns[j].size() != a.rows()) return false;
  return !a.target || same_column(*a.target, *b.target);
}

// The outcome of one parse: the Dataset or the error message.
struct Outcome {
  std::optional<Dataset> dataset;
  std::string error;
};

Outcome parse(std::string_view text, const tabula::io::CsvOptions& options, std::size_t chunk) {
  Outcome outcome;
  try {
    outcome.dataset = tabula::io::detail::parse_csv_chunked(text, "fuzz.csv", options, chunk);
  } catch (const tabula::InputError& e) {
    outcome.error = e.what();
  }
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const bool init = [] {
    tabula::set_thread_count(2);
    return true;
  }();
  (void)init;
  // The first byte picks the options; the rest is the file.
  const std::uint8_t selector = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  tabula::io::CsvOptions options;
  options.delimiter = (selector & 3) == 1 ? ';' : (selector & 3) == 2 ? '\t' : ',';
  if (selector & 4) options.target = "a";
  if (selector & 8) options.categorical = {"b"};
  if (selector & 16) options.numeric = {"c"};
  if (selector & 32) options.na_values = {"", "?"};

  const Outcome whole = parse(text, options, text.size() + 1);
  const Outcome pieces = parse(text, options, 1 + selector / 64);
  if (whole.dataset.has_value() != pieces.dataset.has_value() || whole.error != pieces.error)
    std::abort();
  if (whole.dataset && !same(*whole.dataset, *pieces.dataset)) std::abort();
  return 0;
}
