// Small tables for the pipeline tests, built in memory, and a pipeline's saved form read back.
#pragma once

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "support/temp_path.hpp"
#include "tabula/artifact/artifact.hpp"
#include "tabula/core/dataset.hpp"
#include "tabula/pipeline/pipeline.hpp"

namespace tabula::testing {

inline constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

inline Column numeric_column(const std::string& name, std::vector<double> values) {
  Column c;
  c.name = name;
  c.numeric = std::move(values);
  return c;
}

/// A text column as the CSV reader makes it: sorted categories, codes, "" = missing.
inline Column text_column(const std::string& name, const std::vector<std::string>& values) {
  Column c;
  c.name = name;
  c.type = ColumnType::kCategorical;
  std::map<std::string, std::int32_t> index;
  for (const std::string& v : values)
    if (!v.empty()) index.emplace(v, 0);
  for (auto& [value, code] : index) {
    code = static_cast<std::int32_t>(c.categories.size());
    c.categories.push_back(value);
  }
  for (const std::string& v : values) c.codes.push_back(v.empty() ? -1 : index[v]);
  return c;
}

inline Dataset table(std::vector<Column> columns) {
  Dataset d;
  d.source = "test.csv";
  d.columns = std::move(columns);
  return d;
}

/// `p` written to a model file and read back.
inline Pipeline reloaded(const Pipeline& p) {
  const ScopedTempDir dir("pipeline");
  ArtifactWriter out;
  p.save(out);
  out.write(dir.file("p.tbl"));
  return Pipeline::load(ArtifactReader(dir.file("p.tbl")));
}

}  // namespace tabula::testing
