// What the two encoders share: lookup by text and the saved form.
#include <algorithm>

#include "pipeline/steps.hpp"
#include "tabula/error.hpp"

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

}  // namespace

nlohmann::json encoder_to_json(const Encoder& e) {
  return {{"kind", e.kind == Encoder::Kind::kOneHot ? "onehot" : "ordinal"},
          {"handle_unknown", unknown_name(e.unknown)},
          {"categories", e.categories},
          {"slot", e.slot},
          {"infrequent_slot", e.infrequent_slot},
          {"unknown_value",
           std::isnan(e.unknown_value) ? nlohmann::json() : nlohmann::json(e.unknown_value)},
          {"width", e.width},
          {"output_names", e.output_names}};
}

Encoder encoder_from_json(const nlohmann::json& j) {
  Encoder e;
  const std::string kind = j.at("kind").get<std::string>();
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
  e.slot = j.at("slot").get<std::vector<std::int64_t>>();
  e.infrequent_slot = j.at("infrequent_slot").get<std::int64_t>();
  e.unknown_value = j.at("unknown_value").is_null() ? kNaN : j.at("unknown_value").get<double>();
  e.width = j.at("width").get<std::int64_t>();
  e.output_names = j.at("output_names").get<std::vector<std::string>>();
  if (e.slot.size() != e.categories.size() ||
      static_cast<std::int64_t>(e.output_names.size()) != e.width ||
      !std::is_sorted(e.categories.begin(), e.categories.end()))
    throw InputError("encoder state does not add up");
  for (std::int64_t s : e.slot)
    if (e.kind == Encoder::Kind::kOneHot && (s < 0 || s >= e.width))
      throw InputError("encoder slot out of range");
  return e;
}

}  // namespace tabula::pipeline
