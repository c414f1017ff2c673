// Hot reload of a crafted model file (issue 12): the repository keeps serving the version that
// served, and counts the failure in /metrics.
#include <gtest/gtest.h>

#include <filesystem>

#include "security/security_test_support.hpp"
#include "serve/metrics.hpp"
#include "serve/model_repository.hpp"

namespace tabula::testing {
namespace {

namespace fs = std::filesystem;

double reload_failures(const serve::Metrics& metrics) {
  return metrics.value("tabula_reload_failures_total", {{"model", "m"}});
}

std::string crafted_forest(const std::string& name) {
  return edited_copy(zoo_model("forest-classification-default").path, name, [](ArtifactParts& p) {
    nlohmann::json classes = p.header["classes"];
    classes.push_back("k3");
    set_text_classes(p, classes);
  });
}

TEST(ModelFileSecurity, HotReloadKeepsServingWhenANewVersionFailsValidation) {
  const fs::path root = unique_temp_path("repo");
  fs::create_directories(root / "m" / "1");
  fs::copy_file(zoo_model("linear-regression-default").path, root / "m" / "1" / "model.tabula");
  serve::Metrics metrics;
  serve::ModelRepository repo(root.string(), {}, DeviceRegistry::instance().backend(Device::cpu()),
                              metrics);
  repo.scan();
  ASSERT_EQ(repo.find("m")->order, std::vector<std::string>{"1"});

  // A newer version that fails validation: version 1 keeps serving, the failure is counted.
  fs::create_directories(root / "m" / "2");
  fs::copy_file(crafted_forest("v2"), root / "m" / "2" / "model.tabula");
  repo.scan();
  auto entry = repo.find("m");
  EXPECT_EQ(entry->order, std::vector<std::string>{"1"});
  EXPECT_EQ(entry->choose("", std::nullopt, 0)->version(), "1");
  ASSERT_EQ(entry->errors.size(), 1u);
  EXPECT_NE(entry->errors[0].find("field 'classes'"), std::string::npos) << entry->errors[0];
  EXPECT_EQ(reload_failures(metrics), 1.0);
  EXPECT_NE(metrics.render().find("tabula_reload_failures_total{model=\"m\"} 1"),
            std::string::npos);

  // The serving file itself replaced by a crafted one: the loaded copy keeps serving.
  fs::remove_all(root / "m" / "2");
  fs::copy_file(crafted_forest("v1"), root / "m" / "1" / "model.tabula",
                fs::copy_options::overwrite_existing);
  repo.scan();
  entry = repo.find("m");
  EXPECT_EQ(entry->order, std::vector<std::string>{"1"});
  EXPECT_EQ(entry->choose("", std::nullopt, 0)->model().estimator->name(), "linear");
  EXPECT_EQ(reload_failures(metrics), 2.0);
  fs::remove_all(root);
}

}  // namespace
}  // namespace tabula::testing
