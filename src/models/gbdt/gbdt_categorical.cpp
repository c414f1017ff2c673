// categorical_features: parsing, resolution against the fit's columns, and checks on the codes.
#include "models/gbdt/gbdt_categorical.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "tabula/core/error.hpp"

namespace tabula {
namespace {

constexpr const char* kKey = "categorical_features";

bool is_none(const std::string& v) {
  return v == "None" || v == "none" || v == "null" || v.empty();
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// The items of "a,b", or of a JSON list (strings quoted, so that a JSON list of strings stays a
// list of names even when they look like numbers).
std::vector<std::string> list_items(const std::string& text) {
  std::vector<std::string> items;
  if (!text.empty() && text.front() == '[') {
    nlohmann::json list;
    try {
      list = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception&) {
      throw InputError("model 'gbdt': parameter categorical_features='" + text +
                       "' is not a JSON list");
    }
    for (const nlohmann::json& item : list) items.push_back(item.dump());
    return items;
  }
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    items.push_back(trim(text.substr(start, comma - start)));
    start = comma + 1;
  }
  return items;
}

// A JSON string item without its quotes; other items as they are.
std::string unquoted(const std::string& item) {
  if (item.size() >= 2 && item.front() == '"')
    return nlohmann::json::parse(item).get<std::string>();
  return item;
}

bool is_index(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string column_name(const FitData& data, std::int64_t j) {
  if (static_cast<std::int64_t>(data.feature_names.size()) > j)
    return "'" + data.feature_names[static_cast<std::size_t>(j)] + "' (column " +
           std::to_string(j) + ")";
  return "column " + std::to_string(j);
}

}  // namespace

CategoricalFeatures CategoricalFeatures::parse(const std::string& text) {
  CategoricalFeatures c;
  if (text == "from_dtype") return c;
  if (is_none(text)) {
    c.kind = Kind::kNone;
    return c;
  }
  const std::vector<std::string> items = list_items(text);
  if (items.empty() ||
      std::any_of(items.begin(), items.end(), [](const std::string& s) { return s.empty(); }))
    throw InputError("model 'gbdt': parameter categorical_features='" + text +
                     "': expected from_dtype, None, or a list of column names, indices or "
                     "true/false flags (a,b or [\"a\", \"b\"])");
  const auto all = [&](auto pred) { return std::all_of(items.begin(), items.end(), pred); };
  if (all([](const std::string& s) { return s == "true" || s == "false"; })) {
    c.kind = Kind::kMask;
    for (const std::string& s : items) c.mask.push_back(s == "true" ? 1 : 0);
  } else if (all(is_index)) {
    c.kind = Kind::kIndices;
    for (const std::string& s : items) c.indices.push_back(std::stoll(s));
  } else {
    c.kind = Kind::kNames;
    for (const std::string& s : items) c.names.push_back(unquoted(s));
  }
  return c;
}

nlohmann::json CategoricalFeatures::to_json() const {
  switch (kind) {
    case Kind::kNone:
      return nullptr;
    case Kind::kFromDtype:
      return "from_dtype";
    case Kind::kNames:
      return names;
    case Kind::kIndices:
      return indices;
    case Kind::kMask: {
      nlohmann::json out = nlohmann::json::array();
      for (std::uint8_t m : mask) out.push_back(m != 0);
      return out;
    }
  }
  return nullptr;
}

namespace gbdt {

std::vector<std::uint8_t> resolve_categorical(const CategoricalFeatures& spec,
                                              const FitData& data) {
  using Kind = CategoricalFeatures::Kind;
  const std::int64_t d = data.x.cols;
  std::vector<std::uint8_t> out(static_cast<std::size_t>(d), 0);
  switch (spec.kind) {
    case Kind::kNone:
      break;
    case Kind::kFromDtype:
      if (static_cast<std::int64_t>(data.categorical.size()) == d)
        std::copy(data.categorical.begin(), data.categorical.end(), out.begin());
      break;
    case Kind::kMask:
      if (static_cast<std::int64_t>(spec.mask.size()) != d)
        throw InputError("gbdt: categorical_features is a mask of " +
                         std::to_string(spec.mask.size()) + " flags, but the model has " +
                         std::to_string(d) + " input columns");
      std::copy(spec.mask.begin(), spec.mask.end(), out.begin());
      break;
    case Kind::kIndices:
      for (std::int64_t j : spec.indices) {
        if (j >= d)
          throw InputError("gbdt: categorical_features names column " + std::to_string(j) +
                           ", but the model has " + std::to_string(d) +
                           " input columns (0-based indices)");
        out[static_cast<std::size_t>(j)] = 1;
      }
      break;
    case Kind::kNames:
      for (const std::string& name : spec.names) {
        const auto it = std::find(data.feature_names.begin(), data.feature_names.end(), name);
        if (it == data.feature_names.end()) {
          std::string known;
          for (const std::string& n : data.feature_names) known += (known.empty() ? "" : ", ") + n;
          throw InputError("gbdt: categorical_features names '" + name +
                           "', which is not an input column of the model" +
                           (known.empty() ? std::string(" (its columns have no names)")
                                          : " (its columns: " + known + ")"));
        }
        out[static_cast<std::size_t>(it - data.feature_names.begin())] = 1;
      }
      break;
  }
  return out;
}

std::vector<std::int32_t> category_counts(MatrixView<const float> x,
                                          const std::vector<std::uint8_t>& categorical,
                                          const FitData& data, int max_bins) {
  std::vector<std::int32_t> counts(static_cast<std::size_t>(x.cols), 0);
  for (std::int64_t j = 0; j < x.cols; ++j) {
    if (categorical[static_cast<std::size_t>(j)] == 0) continue;
    float largest = -1.0f;
    for (std::int64_t i = 0; i < x.rows; ++i) {
      const float v = x(i, j);
      if (std::isnan(v) || v < 0) continue;  // missing
      if (!std::isfinite(v) || v != std::floor(v))
        throw InputError("gbdt: categorical feature " + column_name(data, j) + " holds " +
                         std::to_string(v) + " in row " + std::to_string(i) +
                         ", which is no category code: a categorical column holds integer "
                         "codes 0, 1, 2, ... (text columns are coded by the pipeline); drop it "
                         "from categorical_features to split on it as a number");
      largest = std::max(largest, v);
    }
    if (largest >= static_cast<float>(max_bins))
      throw InputError("gbdt: categorical feature " + column_name(data, j) + " has " +
                       std::to_string(static_cast<std::int64_t>(largest) + 1) +
                       " categories (codes up to " +
                       std::to_string(static_cast<std::int64_t>(largest)) +
                       "), more than max_bins=" + std::to_string(max_bins) +
                       " allows: raise max_bins (at most 255), merge rare categories, or drop "
                       "the column from categorical_features");
    counts[static_cast<std::size_t>(j)] = static_cast<std::int32_t>(largest) + 1;
  }
  return counts;
}

std::vector<float> codes_or_missing(MatrixView<const float> x,
                                    const std::vector<std::int32_t>& counts) {
  std::vector<float> out(static_cast<std::size_t>(x.rows * x.cols));
  for (std::int64_t i = 0; i < x.rows; ++i)
    for (std::int64_t j = 0; j < x.cols; ++j) {
      const float v = x(i, j);
      const std::int32_t k = counts[static_cast<std::size_t>(j)];
      const bool code = k == 0 || (v >= 0 && v < static_cast<float>(k) && v == std::floor(v));
      out[static_cast<std::size_t>(i * x.cols + j)] = code ? v : std::nanf("");
    }
  return out;
}

std::vector<std::uint8_t> known_categories(MatrixView<const float> x,
                                           const std::vector<std::int32_t>& counts) {
  std::vector<std::uint8_t> known(static_cast<std::size_t>(x.cols * kForestCategorySetBytes), 0);
  for (std::int64_t i = 0; i < x.rows; ++i)
    for (std::int64_t j = 0; j < x.cols; ++j) {
      const float v = x(i, j);
      if (counts[static_cast<std::size_t>(j)] == 0 || !(v >= 0)) continue;
      const auto c = static_cast<std::int64_t>(v);
      known[static_cast<std::size_t>(j * kForestCategorySetBytes + c / 8)] |=
          static_cast<std::uint8_t>(1u << (c % 8));
    }
  return known;
}

}  // namespace gbdt
}  // namespace tabula
