// PipelineSpec: defaults per model, the JSON and TOML forms, the command-line overrides.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/temp_path.hpp"
#include "tabula/core/error.hpp"
#include "tabula/pipeline/pipeline.hpp"

namespace tabula {
namespace {

TEST(PipelineSpec, DefaultsScaleLinearModelsOnly) {
  const PipelineSpec ridge = PipelineSpec::defaults("ridge");
  ASSERT_EQ(ridge.branches.size(), 3u);
  ASSERT_EQ(ridge.branches[0].steps.size(), 2u);
  EXPECT_EQ(ridge.branches[0].steps[0].params.at("strategy"), "median");
  EXPECT_EQ(ridge.branches[0].steps[1].kind, "StandardScaler");
  // Dates before the categorical branch (which would take them), imputed and scaled as numbers.
  EXPECT_TRUE(ridge.branches[1].columns.dates);
  ASSERT_EQ(ridge.branches[1].steps.size(), 3u);
  EXPECT_EQ(ridge.branches[1].steps[0].kind, "DateFeatures");
  EXPECT_EQ(ridge.branches[1].steps[2].kind, "StandardScaler");
  EXPECT_EQ(ridge.branches[2].steps.back().kind, "OneHotEncoder");
  const PipelineSpec forest = PipelineSpec::defaults("forest");
  EXPECT_TRUE(forest.branches[0].steps.empty()) << "forests take NaN natively, unscaled";
  EXPECT_EQ(forest.branches[1].steps.size(), 1u);
  EXPECT_EQ(forest.branches.back().steps.back().kind, "OneHotEncoder");
  EXPECT_EQ(PipelineSpec::passthrough().branches.size(), 1u);
}

TEST(PipelineSpec, JsonRoundTripAndErrorsNameTheKey) {
  PipelineSpec s = PipelineSpec::defaults("logistic");
  s.branches.push_back({"ids", {{"a", "b"}, std::nullopt}, {{"OrdinalEncoder", {}}}});
  s.after = {{"PCA", {{"n_components", "2"}}}};
  const nlohmann::json j = s.to_json();
  EXPECT_EQ(PipelineSpec::from_json(j, "x").to_json(), j);
  auto fails = [](const nlohmann::json& j, const std::string& needle) {
    try {
      PipelineSpec::from_json(j, "spec.toml");
      ADD_FAILURE() << "accepted " << j.dump();
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("spec.toml"), std::string::npos) << e.what();
    }
  };
  fails({{"branches", {{{"type", "numeric"}, {"steps", {{{"kind", "Scaler"}}}}}}}}, "'Scaler'");
  fails({{"branches",
          {{{"type", "numeric"}, {"steps", {{{"kind", "StandardScaler"}, {"mean", 1}}}}}}}},
        "'mean'");
  fails({{"branches", {{{"type", "text"}}}}}, "type");
  fails({{"branches", {{{"colums", {"a"}}}}}}, "'colums'");
  fails({{"brnches", nlohmann::json::array()}}, "'brnches'");
}

TEST(PipelineSpec, ReadsTomlWithOrWithoutAPipelineTable) {
  const auto path = testing::unique_temp_path("spec.toml");
  {
    std::ofstream f(path);
    f << "[pipeline]\n"
         "[[pipeline.branches]]\nname = \"num\"\ntype = \"numeric\"\n"
         "steps = [ { kind = \"SimpleImputer\", strategy = \"constant\", fill_value = -1 },\n"
         "          { kind = \"MinMaxScaler\", feature_range = [-1, 1] } ]\n"
         "[[pipeline.branches]]\ncolumns = [\"city\"]\n"
         "steps = [ { kind = \"OneHotEncoder\", min_frequency = 0.05, handle_unknown = "
         "\"infrequent_if_exist\" } ]\n";
  }
  const PipelineSpec s = read_pipeline_spec(path.string());
  std::filesystem::remove(path);
  ASSERT_EQ(s.branches.size(), 2u);
  EXPECT_EQ(s.branches[0].name, "num");
  EXPECT_EQ(s.branches[0].steps[0].params.at("fill_value"), "-1");
  EXPECT_EQ(s.branches[0].steps[1].params.at("feature_range"), "-1,1");
  EXPECT_EQ(s.branches[1].columns.names, std::vector<std::string>{"city"});
  EXPECT_EQ(s.branches[1].steps[0].params.at("min_frequency"), "0.05");
  EXPECT_EQ(s.branches[1].name, "branch2");
}

TEST(PipelineSpec, OverridesReplaceInsertAndRemoveSteps) {
  PipelineOverrides o;
  o.scale = "minmax";
  o.impute = "mean";
  o.handle_unknown = "error";
  PipelineSpec s = apply_overrides(PipelineSpec::defaults("forest"), o);
  ASSERT_EQ(s.branches[0].steps.size(), 2u);
  EXPECT_EQ(s.branches[0].steps[0].params.at("strategy"), "mean");
  EXPECT_EQ(s.branches[0].steps[1].kind, "MinMaxScaler");
  EXPECT_EQ(s.branches.back().steps[1].params.at("handle_unknown"), "error");
  o = {};
  o.scale = "none";
  o.impute = "none";
  o.encode = "ordinal";
  s = apply_overrides(PipelineSpec::defaults("ridge"), o);
  EXPECT_TRUE(s.branches[0].steps.empty());
  EXPECT_EQ(s.branches.back().steps[1].kind, "OrdinalEncoder");
  // The date branch's parts are numbers: --impute/--scale reach them after DateFeatures.
  ASSERT_EQ(s.branches[1].steps.size(), 1u);
  EXPECT_EQ(s.branches[1].steps[0].kind, "DateFeatures");
  o = {};
  o.scale = "robust";
  EXPECT_THROW(apply_overrides(PipelineSpec::defaults("ridge"), o), InputError);
}

TEST(PipelineSpec, DateOverridesNameTheColumnsAndTheFormat) {
  PipelineOverrides o;
  o.date_columns = {"signup", "last_seen"};
  o.date_format = "%d/%m/%Y";
  o.impute = "median";
  PipelineSpec s = apply_overrides(PipelineSpec::defaults("forest"), o);
  const BranchSpec& dates = s.branches[1];
  EXPECT_EQ(dates.columns.names, o.date_columns);
  EXPECT_FALSE(dates.columns.dates) << "named columns only: no search for more";
  ASSERT_EQ(dates.steps.size(), 2u);
  EXPECT_EQ(dates.steps[0].params.at("format"), "%d/%m/%Y");
  EXPECT_EQ(dates.steps[1].kind, "SimpleImputer") << "imputes the parts, after DateFeatures";
  // The spec's JSON form keeps a date selector as type "date".
  const nlohmann::json j = PipelineSpec::defaults("ridge").to_json();
  EXPECT_EQ(j["branches"][1]["type"], "date");
  EXPECT_TRUE(PipelineSpec::from_json(j, "x").branches[1].columns.dates);
  o = {};
  o.date_format = "%d/%q/%Y";
  EXPECT_THROW(apply_overrides(PipelineSpec::defaults("forest"), o), InputError);
  o.date_format = "%d/%m";  // no year
  EXPECT_THROW(apply_overrides(PipelineSpec::defaults("forest"), o), InputError);
  o = {};
  o.date_columns = {"signup"};
  EXPECT_THROW(apply_overrides(PipelineSpec::passthrough(), o), InputError)
      << "no DateFeatures branch to apply --date to";
}

}  // namespace
}  // namespace tabula
