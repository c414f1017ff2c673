// What the two encoders share: lookup by text and the saved form.
#include <algorithm>
#include <functional>

#include "artifact/validate.hpp"
#include "pipeline/date_time.hpp"
#include "pipeline/steps.hpp"
#include "tabula/core/error.hpp"

namespace tabula::pipeline {

std::int64_t Encoder::find(std::string_view value) const {
  const auto it = std::lower_bound(categories.begin(), categories.end(), value,
                                   [](const std::string& a, std::string_view b) { return a < b; });
  if (it == categories.end() || *it != value) return -1;
  return it - categories.begin();
}

namespace {

const char* unknown_name(Encoder::Unknown u) {
  switch (u) {
    case Encoder::Unknown::kError:
      return "error";
    case Encoder::Unknown::kIgnore:
      return "ignore";
    case Encoder::Unknown::kInfrequent:
      return "infrequent_if_exist";
    case Encoder::Unknown::kValue:
      return "use_encoded_value";
  }
  return "error";
}

const char* kind_name(Encoder::Kind k) {
  switch (k) {
    case Encoder::Kind::kOneHot:
      return "onehot";
    case Encoder::Kind::kOrdinal:
      return "ordinal";
    case Encoder::Kind::kDate:
      return "date";
  }
  return "onehot";
}

}  // namespace

nlohmann::json encoder_to_json(const Encoder& e) {
  if (e.kind == Encoder::Kind::kDate)
    return {{"kind", kind_name(e.kind)},
            {"format", e.date_format},
            {"parts", e.date_parts},
            {"width", e.width},
            {"output_names", e.output_names}};
  return {{"kind", kind_name(e.kind)},
          {"handle_unknown", unknown_name(e.unknown)},
          {"categories", e.categories},
          {"slot", e.slot},
          {"infrequent_slot", e.infrequent_slot},
          {"unknown_value",
           std::isnan(e.unknown_value) ? nlohmann::json() : nlohmann::json(e.unknown_value)},
          {"width", e.width},
          {"output_names", e.output_names}};
}

namespace {

/// Every index the transform writes through (slot, infrequent_slot) inside the encoder's width,
/// and the categories sorted and unique, as lookup by binary search needs.
void validate_encoder(const Encoder& e) {
  using namespace artifact;
  const auto n_categories = static_cast<std::int64_t>(e.categories.size());
  if (e.kind == Encoder::Kind::kOrdinal)
    expect_size("encoder.width", e.width, 1, "an ordinal encoder has 1 output");
  else
    expect_range("encoder.width", e.width, 1, std::max<std::int64_t>(n_categories, 1) + 1);
  expect_size("encoder.slot", static_cast<std::int64_t>(e.slot.size()), n_categories,
              "the encoder has " + std::to_string(n_categories) + " categories");
  expect_size("encoder.output_names", static_cast<std::int64_t>(e.output_names.size()), e.width,
              "the encoder has " + std::to_string(e.width) + " outputs");
  if (std::adjacent_find(e.categories.begin(), e.categories.end(), std::greater_equal<>()) !=
      e.categories.end())
    field_error("encoder.categories", "not sorted by bytes and unique");
  if (e.kind != Encoder::Kind::kOneHot) return;
  for (std::int64_t s : e.slot) expect_range("encoder.slot", s, 0, e.width - 1);
  expect_range("encoder.infrequent_slot", e.infrequent_slot, -1, e.width - 1);
}

/// A DateFeatures encoder: a known format and parts, one output per part.
Encoder date_encoder_from_json(const nlohmann::json& j) {
  Encoder e;
  e.kind = Encoder::Kind::kDate;
  e.date_format = j.at("format").get<std::string>();
  e.date_parts = j.at("parts").get<std::vector<std::string>>();
  e.width = artifact::integer(j.at("width"), "encoder.width");
  e.output_names = j.at("output_names").get<std::vector<std::string>>();
  check_date_format(e.date_format);
  check_date_parts(e.date_parts, "encoder.parts");
  artifact::expect_size("encoder.width", e.width, static_cast<std::int64_t>(e.date_parts.size()),
                        "one output per date part");
  artifact::expect_size("encoder.output_names", static_cast<std::int64_t>(e.output_names.size()),
                        e.width, "one name per date part");
  return e;
}

}  // namespace

Encoder encoder_from_json(const nlohmann::json& j) {
  using artifact::field_error;
  using artifact::integer;
  Encoder e;
  const std::string kind = j.at("kind").get<std::string>();
  if (kind == kind_name(Encoder::Kind::kDate)) return date_encoder_from_json(j);
  if (kind != "onehot" && kind != "ordinal")
    throw InputError("unknown encoder kind '" + kind + "'");
  e.kind = kind == "onehot" ? Encoder::Kind::kOneHot : Encoder::Kind::kOrdinal;
  const std::string unknown = j.at("handle_unknown").get<std::string>();
  bool found = false;
  for (auto u : {Encoder::Unknown::kError, Encoder::Unknown::kIgnore, Encoder::Unknown::kInfrequent,
                 Encoder::Unknown::kValue})
    if (unknown == unknown_name(u)) e.unknown = u, found = true;
  if (!found) throw InputError("unknown handle_unknown '" + unknown + "'");
  e.categories = j.at("categories").get<std::vector<std::string>>();
  if (!j.at("slot").is_array()) field_error("encoder.slot", "not a list");
  for (const auto& s : j["slot"]) e.slot.push_back(integer(s, "encoder.slot"));
  e.infrequent_slot = integer(j.at("infrequent_slot"), "encoder.infrequent_slot");
  e.unknown_value = j.at("unknown_value").is_null() ? kNaN : j.at("unknown_value").get<double>();
  e.width = integer(j.at("width"), "encoder.width");
  e.output_names = j.at("output_names").get<std::vector<std::string>>();
  validate_encoder(e);
  return e;
}

}  // namespace tabula::pipeline
