// The semantic checks every model file passes before anything uses it. The checksum only
// catches accidents: a file edited and re-checksummed passes it, so every count, index, size
// and value a file states is checked against the others here, and an error names the field
// ("field 'forest.value_size': ..."). docs/security.md lists the limits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

namespace tabula {
struct LoadedModel;
}

namespace tabula::artifact {

/// Largest JSON header a reader accepts (bytes). Real headers are KBs; a one-hot encoder with
/// a million categories is tens of MB.
inline constexpr std::uint64_t kMaxHeaderBytes = 256ull << 20;
/// Deepest JSON nesting a reader accepts; tabula writes at most 8 levels.
inline constexpr std::size_t kMaxJsonDepth = 64;
/// Largest element count of any one dimension product (2^40): far above any real model, far
/// below where a size in bytes could overflow.
inline constexpr std::int64_t kMaxElements = std::int64_t{1} << 40;

/// Throws InputError "field 'F': why".
[[noreturn]] void field_error(std::string_view field, const std::string& why);

/// `actual` must equal `expected`; `what` names the expectation ("the forest has 2 outputs").
void expect_size(std::string_view field, std::int64_t actual, std::int64_t expected,
                 std::string_view what);
/// lo <= value <= hi.
void expect_range(std::string_view field, std::int64_t value, std::int64_t lo, std::int64_t hi);
/// a * b for non-negative counts, refused above kMaxElements instead of overflowing.
std::int64_t checked_product(std::string_view field, std::int64_t a, std::int64_t b);
/// An integer field: a JSON integer that fits in int64 (a JSON float there is refused, since
/// converting one out of range is undefined behaviour).
std::int64_t integer(const nlohmann::json& value, std::string_view field);
/// Every value finite (no NaN, no infinity).
void expect_finite(std::string_view field, std::span<const double> values);
void expect_finite(std::string_view field, std::span<const float> values);

/// The checks across a model file's parts, after the estimator and the pipeline each checked
/// their own state: class labels against the estimator's classes, the schema against the
/// pipeline's inputs, the pipeline's width against the estimator's features.
/// `header` is the file's whole header: the fields only people read (parameters, training
/// metadata) must still have the shape `tabula inspect` prints.
void validate_model(const LoadedModel& model, const nlohmann::json& header);

/// The deepest nesting of arrays and objects in JSON text, counted without parsing (strings
/// skipped); stops counting once it exceeds `limit` and returns limit + 1.
std::size_t json_depth(std::string_view text, std::size_t limit = kMaxJsonDepth);

}  // namespace tabula::artifact
