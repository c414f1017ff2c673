// Crafted model files with a valid checksum (issue 12): each case crashed predict or the
// server, or was served wrong, before the semantic validator; now each is refused with an
// error naming the field.
#include <gtest/gtest.h>

#include <set>

#include "security/security_test_support.hpp"
#include "tabula/artifact/artifact.hpp"

namespace tabula::testing {
namespace {

using nlohmann::json;

/// The first encoder of `kind` ("onehot", "ordinal") in a pipeline header, with its column.
json& find_column(json& header, const std::string& kind) {
  for (json& branch : header["pipeline"]["branches"])
    for (json& column : branch["columns"])
      if (column.contains("encoder") && column["encoder"]["kind"] == kind) return column;
  throw std::logic_error("no " + kind + " encoder");
}

TEST(ModelFileSecurity, ForestClassesLongerThanItsOutputsAreRefused) {
  const auto path =
      edited_copy(zoo_model("forest-classification-default").path, "longer", [](ArtifactParts& p) {
        nlohmann::json classes = p.header["classes"];
        for (const char* extra : {"k3", "k4", "k5", "k6"}) classes.push_back(extra);
        set_text_classes(p, classes);
      });
  expect_refused(path, {"field 'classes'", "7 entries", "3 classes"});
}

TEST(ModelFileSecurity, ForestClassesShorterThanItsOutputsAreRefused) {
  const auto path = edited_copy(zoo_model("forest-classification-default").path, "shorter",
                                [](ArtifactParts& p) { set_text_classes(p, {"k0"}); });
  expect_refused(path, {"field 'classes'", "1 entries"});
}

TEST(ModelFileSecurity, InfrequentSlotBeyondTheCategoriesIsRefused) {
  const auto path = edited_copy(
      zoo_model("logistic-classification-rich").path, "infrequent", [](ArtifactParts& p) {
        json& encoder = find_column(p.header, "onehot")["encoder"];
        encoder["infrequent_slot"] = encoder["width"].get<std::int64_t>() + 40;
      });
  expect_refused(path, {"field 'encoder.infrequent_slot'", "column 'color'"});
}

TEST(ModelFileSecurity, OrdinalEncoderOfWidthZeroIsRefused) {
  const auto path =
      edited_copy(zoo_model("ridge-regression-rich").path, "ordinal0", [](ArtifactParts& p) {
        json& column = find_column(p.header, "ordinal");
        column["encoder"]["width"] = 0;
        column["encoder"]["output_names"] = json::array();
        column["width"] = 0;
        json& maps = p.header["arrays"][column["maps"].get<std::string>()];
        maps["shape"] = {0, 3};
        maps["nbytes"] = 0;
      });
  expect_refused(path, {"field 'encoder.width'", "column 'size'"});
}

// Found by the mutation test once the zoo's gradient boosting seeds held category sets: a text
// column without its encoder was read as numbers, through a table of parsed values it lacks.
TEST(ModelFileSecurity, CategoricalColumnWithoutItsEncoderIsRefused) {
  const auto path =
      edited_copy(zoo_model("gbdt-regressor-regression-default").path, "no-encoder",
                  [](ArtifactParts& p) { find_column(p.header, "ordinal").erase("encoder"); });
  expect_refused(path, {"field 'encoder' is missing", "column 'color'"});
}

TEST(ModelFileSecurity, IdColumnThatIsAFeatureOrEmptyIsRefused) {
  const auto feature = edited_copy(
      zoo_model("forest-classification-default").path, "id_feature", [](ArtifactParts& p) {
        p.header["schema"]["id_column"] = p.header["schema"]["features"][0]["name"];
      });
  expect_refused(feature, {"schema.id_column", "is also a feature or the target"});
  const auto empty = edited_copy(zoo_model("forest-classification-default").path, "id_empty",
                                 [](ArtifactParts& p) { p.header["schema"]["id_column"] = ""; });
  expect_refused(empty, {"schema.id_column must be a column name"});
  const auto number = edited_copy(zoo_model("forest-classification-default").path, "id_number",
                                  [](ArtifactParts& p) { p.header["schema"]["id_column"] = 7; });
  expect_refused(number, {"malformed header"});
}

TEST(ModelFileSecurity, IdColumnRoundTrips) {
  const auto path =
      edited_copy(zoo_model("forest-classification-default").path, "id_ok",
                  [](ArtifactParts& p) { p.header["schema"]["id_column"] = "customer id"; });
  EXPECT_EQ(load_model(path).schema.id_column, "customer id");
}

TEST(ModelFileSecurity, ValueSizeThatOverflowsIsRefused) {
  const auto path = edited_copy(
      zoo_model("forest-regression-default").path, "overflow",
      [](ArtifactParts& p) { p.header["forest"]["value_size"] = (std::int64_t{1} << 62) + 1; });
  expect_refused(path, {"field 'forest.value_size'"});
}

TEST(ModelFileSecurity, HugeFloatInAnIntegerFieldIsRefused) {
  // Found by the artifact fuzzer: converting 1e308 to int64 is undefined behaviour (UBSan).
  const auto path = edited_copy(zoo_model("forest-regression-default").path, "float",
                                [](ArtifactParts& p) { p.header["forest"]["value_size"] = 1e308; });
  expect_refused(path, {"field 'forest.value_size'", "not an integer"});
}

TEST(ModelFileSecurity, RegressorWithValueSizeZeroIsRefused) {
  const auto path =
      edited_copy(zoo_model("forest-regression-default").path, "value0", [](ArtifactParts& p) {
        p.header["forest"]["value_size"] = 0;
        json& values = p.header["arrays"]["forest.values"];
        values["shape"][1] = 0;
        values["nbytes"] = 0;
      });
  expect_refused(path, {"field 'forest.value_size'", "a regressor has 1 value"});
}

TEST(ModelFileSecurity, LogisticWithOneClassIsRefused) {
  const std::string binary = unique_temp_path("binary.tabula").string();
  write_zoo_model(binary, "logistic", Task::kClassification, false, 2);
  load_and_use(binary);  // the unedited file is fine
  const auto path = edited_copy(binary, "oneclass", [](ArtifactParts& p) {
    p.header["fitted"]["n_classes"] = 1;
    set_text_classes(p, {"k0"});
  });
  expect_refused(path, {"field 'fitted.n_classes'", "1 is outside 2.."});
}

TEST(ModelFileSecurity, HeaderNestedAMillionDeepIsRefused) {
  auto parts = split_artifact(read_bytes(zoo_model("linear-regression-default").path));
  ASSERT_TRUE(parts);
  const std::string deep = std::string(1'000'000, '[') + std::string(1'000'000, ']');
  const std::string text = "{\"deep\":" + deep + "," + parts->header.dump().substr(1);
  const std::string path = unique_temp_path("deep.tabula").string();
  write_bytes(path, join_artifact_text(parts->prefix, text, parts->data));
  expect_refused(path, {"field 'header'", "nested deeper than 64"});
}

TEST(ModelFileSecurity, TreeChildOutsideItsTreeIsRefused) {
  const std::string source = zoo_model("forest-classification-default").path;
  auto parts = split_artifact(read_bytes(source));
  ASSERT_TRUE(parts);
  const json& left = parts->header["arrays"]["forest.left"];
  // Node 0 is a split (the zoo's trees are deeper than one leaf): point it back at itself.
  const std::int32_t self = 0;
  std::memcpy(parts->data.data() + left["offset"].get<std::size_t>(), &self, 4);
  const std::string path = unique_temp_path("cycle.tabula").string();
  write_bytes(path, join_artifact(*parts));
  expect_refused(path, {"field 'forest.left'", "tree 0 node 0"});
}

TEST(ModelFileSecurity, NonFiniteWeightsAreRefused) {
  const std::string source = zoo_model("ridge-regression-default").path;
  auto parts = split_artifact(read_bytes(source));
  ASSERT_TRUE(parts);
  const double inf = std::numeric_limits<double>::infinity();
  std::memcpy(parts->data.data() + parts->header["arrays"]["coef_"]["offset"].get<std::size_t>(),
              &inf, 8);
  const std::string path = unique_temp_path("inf.tabula").string();
  write_bytes(path, join_artifact(*parts));
  expect_refused(path, {"field 'coef_'", "not finite"});
}

TEST(ModelFileSecurity, EveryRegisteredKindAndTransformerLoadsAndPredicts) {
  std::set<std::string> kinds;
  for (const ZooModel& m : shared_zoo()) {
    SCOPED_TRACE(m.name);
    EXPECT_NO_THROW(load_and_use(m.path));
    kinds.insert(m.kind);
  }
  for (const std::string& kind : estimator_names()) EXPECT_TRUE(kinds.count(kind)) << kind;
}

TEST(ModelFileSecurity, FormatVersionOneFilesWithFnvChecksumsStillLoad) {
  for (const ZooModel& m : shared_zoo()) {
    SCOPED_TRACE(m.name);
    std::string bytes = read_bytes(m.path);
    std::uint32_t version;
    std::memcpy(&version, bytes.data() + 8, 4);
    EXPECT_LE(version, kArtifactFormatVersion);
    version = 1;
    std::memcpy(bytes.data() + 8, &version, 4);
    fix_checksum(bytes);  // FNV-1a 64, as version 1 files carry
    const std::string path = unique_temp_path("v1.tabula").string();
    write_bytes(path, bytes);
    EXPECT_NO_THROW(load_and_use(path));
    bytes[bytes.size() - 1] ^= 1;
    write_bytes(path, bytes);
    expect_refused(path, {"checksum mismatch"});
  }
}

}  // namespace
}  // namespace tabula::testing
