// Triton's repository "unload": the model leaves the index at once, polling leaves it alone until
// "load", and requests that hold one of its versions, queued or arriving, are still answered.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "security/security_test_support.hpp"
#include "serve/http_error.hpp"
#include "serve/metrics.hpp"
#include "serve/model_repository.hpp"

namespace tabula::testing {
namespace {

namespace fs = std::filesystem;

/// Two rows of every feature the model reads.
std::shared_ptr<serve::RequestTable> rows_for(const ModelSchema& schema) {
  auto table = std::make_shared<serve::RequestTable>();
  table->rows = 2;
  for (const FeatureSpec& f : schema.features) {
    serve::RequestColumn c;
    c.name = f.name;
    c.type = f.type;
    if (f.type == ColumnType::kNumeric) {
      c.numeric = {0.5, 1.5};
    } else {
      c.text = {"a", "b"};
      c.present = {1, 1};
    }
    table->columns.push_back(std::move(c));
  }
  return table;
}

class RepositoryUnloadTest : public ::testing::Test {
 protected:
  RepositoryUnloadTest() : root_(unique_temp_path("repo")) {
    fs::create_directories(root_ / "m" / "1");
    fs::copy_file(zoo_model("linear-regression-default").path, root_ / "m" / "1" / "model.tabula");
    serve::BatchingConfig batching;
    batching.max_queue_delay_us = 2000;  // requests meet in batches
    repo_ = std::make_unique<serve::ModelRepository>(
        root_.string(), batching, DeviceRegistry::instance().backend(Device::cpu()), metrics_);
    repo_->scan();
  }
  ~RepositoryUnloadTest() override {
    repo_.reset();
    fs::remove_all(root_);
  }

  fs::path root_;
  serve::Metrics metrics_;
  std::unique_ptr<serve::ModelRepository> repo_;
};

TEST_F(RepositoryUnloadTest, UnloadedModelLeavesTheIndexUntilLoaded) {
  auto held = repo_->find("m")->choose("", std::nullopt, 0);
  repo_->unload("m");
  EXPECT_EQ(repo_->find("m"), nullptr);
  repo_->scan();  // polling does not bring it back
  EXPECT_EQ(repo_->find("m"), nullptr);
  const auto index = repo_->index(false);
  ASSERT_EQ(index.size(), 1u);
  EXPECT_EQ(index[0].state, "UNAVAILABLE");
  EXPECT_EQ(index[0].reason, "unloaded");
  EXPECT_TRUE(repo_->index(true).empty());
  EXPECT_EQ(metrics_.value("tabula_model_loaded", {{"model", "m"}, {"version", "1"}}), 1.0);

  // A request that holds the version is still answered after the unload.
  auto answer = held->submit(rows_for(held->schema()), serve::Clock::time_point::max());
  EXPECT_EQ(answer.get().status, 200);
  held.reset();  // the last holder: the version goes, its gauge with it
  EXPECT_EQ(metrics_.value("tabula_model_loaded", {{"model", "m"}, {"version", "1"}}), 0.0);

  repo_->load("m");
  ASSERT_NE(repo_->find("m"), nullptr);
  EXPECT_EQ(repo_->index(true).size(), 1u);
  try {
    repo_->unload("nope");
    ADD_FAILURE() << "unloading an unknown model";
  } catch (const serve::HttpError& e) {
    EXPECT_EQ(e.status(), 404);
  }
}

TEST_F(RepositoryUnloadTest, RequestsInFlightSurviveUnloadsUnderLoad) {
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0}, refused{0}, failed{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t)
    clients.emplace_back([&] {
      while (!stop) {
        const auto entry = repo_->find("m");
        if (!entry) {
          ++refused;
          continue;
        }
        const auto served = entry->choose("", std::nullopt, 0);
        auto result = served->submit(rows_for(served->schema()), serve::Clock::time_point::max());
        (result.get().status == 200 ? answered : failed)++;
      }
    });
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    repo_->unload("m");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    repo_->load("m");
  }
  stop = true;
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(failed, 0);
  EXPECT_GT(answered, 0);
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace tabula::testing
