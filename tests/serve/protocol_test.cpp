// Request parsing (v2 and MLflow), response shapes, and batch scoring with real model files.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "serve/http_error.hpp"
#include "serve/metrics.hpp"
#include "serve/mlflow_protocol.hpp"
#include "serve/model_config.hpp"
#include "serve/served_model.hpp"
#include "serve/v2_protocol.hpp"
#include "support/served_models.hpp"
#include "support/temp_path.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"

namespace tabula::serve {
namespace {

using nlohmann::json;
using testing::cpu;
using testing::fit_and_reload;
using testing::numeric;

class ProtocolTest : public testing::ServedModelsTest {
 protected:
  static int status_of(const std::function<void()>& f) {
    try {
      f();
    } catch (const HttpError& e) {
      return e.status();
    }
    return 200;
  }

  ScoredRows score(const ServedModel& m, const V2Request& r) {
    const RequestTable* t = r.table.get();
    return m.score({&t, 1}).front();
  }
};

TEST_F(ProtocolTest, OneTensorPerColumnInAnyOrder) {
  const std::string body = R"({"id": "r1", "parameters": {"x": 1}, "inputs": [
      {"name": "b", "datatype": "INT64", "shape": [3], "data": [0, 1, 4]},
      {"name": "extra", "datatype": "BYTES", "shape": [3], "data": ["p", "q", null]},
      {"name": "color", "datatype": "BYTES", "shape": [3], "data": ["red", "blue", "red"]},
      {"name": "a", "datatype": "FP32", "shape": [3, 1], "data": [[1], [2], [3]]}]})";
  const V2Request r = parse_v2_request(body, std::nullopt, *linear_, 100);
  EXPECT_EQ(r.id, "r1");
  ASSERT_EQ(r.table->rows, 3);
  const ScoredRows s = score(*linear_, r);
  ASSERT_EQ(s.status, 200) << s.error;
  const std::vector<double> expected = {8, 4, 8};
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(s.predict[i], expected[i], 1e-4);
  const json out = v2_response(*linear_, r, s);
  EXPECT_EQ(out["id"], "r1");
  EXPECT_EQ(out["model_name"], "lin");
  EXPECT_EQ(out["model_version"], "3");
  ASSERT_EQ(out["outputs"].size(), 1u);
  EXPECT_EQ(out["outputs"][0]["name"], "predict");
  EXPECT_EQ(out["outputs"][0]["shape"], json::array({3}));
}

TEST_F(ProtocolTest, OneMatrixInSchemaOrder) {
  const std::string matrix =
      R"({"inputs": [{"name": "x", "datatype": "FP64", "shape": [3, 2], "data": [1, 0, 7, 5, 3, 2]}]})";
  const std::string columns = R"({"inputs": [
      {"name": "a", "datatype": "FP64", "shape": [3], "data": [1, 7, 3]},
      {"name": "b", "datatype": "FP64", "shape": [3], "data": [0, 5, 2]}]})";
  const ScoredRows m =
      score(*classifier_, parse_v2_request(matrix, std::nullopt, *classifier_, 100));
  const ScoredRows c =
      score(*classifier_, parse_v2_request(columns, std::nullopt, *classifier_, 100));
  EXPECT_EQ(m.predict, c.predict);
  EXPECT_EQ(m.proba, c.proba);
  EXPECT_EQ(m.predict, (std::vector<double>{0, 1, 0}));
  // A model with a categorical column cannot take one numeric matrix.
  EXPECT_EQ(
      status_of([&] {
        parse_v2_request(
            R"({"inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 3], "data": [1, 2, 3]}]})",
            std::nullopt, *linear_, 100);
      }),
      400);
}

TEST_F(ProtocolTest, BinaryTensorExtension) {
  const std::vector<float> a = {1, 2};
  const std::vector<std::int32_t> b = {0, 1};
  const std::string header =
      R"({"inputs": [{"name": "a", "datatype": "FP32", "shape": [2], "parameters": {"binary_data_size": 8}},)"
      R"({"name": "color", "datatype": "BYTES", "shape": [2], "parameters": {"binary_data_size": 15}},)"
      R"({"name": "b", "datatype": "INT32", "shape": [2], "parameters": {"binary_data_size": 8}}]})";
  std::string body = header;
  body.append(reinterpret_cast<const char*>(a.data()), 8);
  const std::uint32_t red = 3, blue = 4;
  body.append(reinterpret_cast<const char*>(&red), 4);
  body.append("red");
  body.append(reinterpret_cast<const char*>(&blue), 4);
  body.append("blue");
  body.append(reinterpret_cast<const char*>(b.data()), 8);
  const V2Request r =
      parse_v2_request(body, static_cast<std::int64_t>(header.size()), *linear_, 100);
  const ScoredRows s = score(*linear_, r);
  ASSERT_EQ(s.status, 200) << s.error;
  EXPECT_NEAR(s.predict[0], 8, 1e-4);
  EXPECT_NEAR(s.predict[1], 4, 1e-4);
  // A size that does not match the shape is refused.
  std::string short_body = header;
  short_body.append(reinterpret_cast<const char*>(a.data()), 8);
  short_body.append(reinterpret_cast<const char*>(&red), 4);
  EXPECT_EQ(status_of([&] {
              parse_v2_request(short_body, static_cast<std::int64_t>(header.size()), *linear_, 100);
            }),
            400);
}

TEST_F(ProtocolTest, TheIdColumnIsEchoedAsSent) {
  Dataset data;
  std::vector<double> a, y;
  for (int i = 0; i < 20; ++i) {
    a.push_back(i);
    y.push_back(3.0 * i);
  }
  data.columns = {numeric("a", a)};
  ModelSchema schema;
  schema.target = "y";
  schema.id_column = "key";
  BatchingConfig batching;
  batching.max_queue_delay_us = 0;
  const ServedModel model("ids", "1", fit_and_reload("linear", Task::kRegression, data, y, schema),
                          batching, cpu(), metrics_);
  // JSON ids come back verbatim, even integers a double cannot hold, and nulls.
  const std::string body = R"({"inputs": [
      {"name": "key", "datatype": "INT64", "shape": [3, 1], "data": [[9007199254740993], [7], [null]]},
      {"name": "a", "datatype": "FP64", "shape": [3], "data": [1, 2, 3]}]})";
  const V2Request r = parse_v2_request(body, std::nullopt, model, 100);
  const json out = v2_response(model, r, score(model, r));
  ASSERT_EQ(out["outputs"].size(), 2u);
  EXPECT_EQ(out["outputs"][0]["name"], "predict");
  const json& key = out["outputs"][1];
  EXPECT_EQ(key["name"], "key");
  EXPECT_EQ(key["datatype"], "INT64");
  EXPECT_EQ(key["shape"], json::array({3}));
  EXPECT_EQ(key["data"].dump(), "[9007199254740993,7,null]");
  // Binary ids are decoded and written back as their type.
  const std::vector<std::int64_t> keys = {12345678901, -3};
  const std::vector<double> values = {4, 5};
  const std::string header =
      R"({"inputs": [{"name": "key", "datatype": "INT64", "shape": [2], "parameters": {"binary_data_size": 16}},)"
      R"({"name": "a", "datatype": "FP64", "shape": [2], "parameters": {"binary_data_size": 16}}],)"
      R"("outputs": [{"name": "key"}]})";
  std::string binary = header;
  binary.append(reinterpret_cast<const char*>(keys.data()), 16);
  binary.append(reinterpret_cast<const char*>(values.data()), 16);
  const V2Request rb =
      parse_v2_request(binary, static_cast<std::int64_t>(header.size()), model, 100);
  const json outb = v2_response(model, rb, score(model, rb));
  ASSERT_EQ(outb["outputs"].size(), 1u);  // only what was asked for
  EXPECT_EQ(outb["outputs"][0]["data"].dump(), "[12345678901,-3]");
  // Without the column there is nothing to echo, and asking for it is the client's error.
  const std::string without =
      R"({"inputs": [{"name": "a", "datatype": "FP64", "shape": [1], "data": [1]}]})";
  const V2Request rw = parse_v2_request(without, std::nullopt, model, 100);
  EXPECT_EQ(v2_response(model, rw, score(model, rw))["outputs"].size(), 1u);
  EXPECT_EQ(status_of([&] {
              parse_v2_request(
                  R"({"inputs": [{"name": "a", "datatype": "FP64", "shape": [1], "data": [1]}],)"
                  R"("outputs": [{"name": "key"}]})",
                  std::nullopt, model, 100);
            }),
            400);
}

TEST_F(ProtocolTest, BadRequestsAreClientErrors) {
  const auto status = [&](const std::string& body, std::int64_t max_rows = 100) {
    return status_of([&] { parse_v2_request(body, std::nullopt, *linear_, max_rows); });
  };
  EXPECT_EQ(status("{not json"), 400);
  // Nesting deeper than any tensor needs is refused, not recursed into.
  EXPECT_EQ(status(R"({"inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 2], "data": )" +
                   std::string(5000, '[') + "1, 2" + std::string(5000, ']') + "}]}"),
            400);
  EXPECT_EQ(status("[]"), 400);
  EXPECT_EQ(status(R"({"inputs": []})"), 400);
  // Missing column b.
  EXPECT_EQ(status(R"({"inputs": [{"name": "a", "datatype": "FP64", "shape": [1], "data": [1]}]})"),
            400);
  // Shape and data disagree.
  EXPECT_EQ(
      status(
          R"({"inputs": [{"name": "x", "datatype": "FP64", "shape": [2, 2], "data": [1, 2, 3]}]})"),
      400);
  // Wrong number of matrix columns.
  EXPECT_EQ(
      status(
          R"({"inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 3], "data": [1, 2, 3]}]})"),
      400);
  // Text for a numeric column.
  EXPECT_EQ(status(R"({"inputs": [{"name": "a", "datatype": "BYTES", "shape": [1], "data": ["x"]},
                                  {"name": "b", "datatype": "FP64", "shape": [1], "data": [1]}]})"),
            400);
  // Columns of different lengths.
  EXPECT_EQ(status(R"({"inputs": [{"name": "a", "datatype": "FP64", "shape": [2], "data": [1, 2]},
                                  {"name": "b", "datatype": "FP64", "shape": [1], "data": [1]}]})"),
            400);
  EXPECT_EQ(
      status(R"({"inputs": [{"name": "x", "datatype": "FP16", "shape": [1, 2], "data": [1, 2]}]})"),
      400);
  EXPECT_EQ(
      status(R"({"inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 2], "data": [1, 2]}],
                       "outputs": [{"name": "probabilities"}]})"),
      400);
  EXPECT_EQ(
      status(R"({"inputs": [{"name": "a", "datatype": "FP64", "shape": [3], "data": [1, 2, 3]},
                                  {"name": "b", "datatype": "FP64", "shape": [3], "data": [1, 2, 3]},
                                  {"name": "color", "datatype": "BYTES", "shape": [3], "data": ["red", "red", "red"]}]})",
             2),
      413);
}

TEST_F(ProtocolTest, ClassifierAnswersLabelsAndProbabilities) {
  const std::string body =
      R"({"inputs": [{"name": "x", "datatype": "FP64", "shape": [2, 2], "data": [0, 1, 9, 1]}],
          "outputs": [{"name": "predict"}, {"name": "probabilities"}]})";
  const V2Request r = parse_v2_request(body, std::nullopt, *classifier_, 100);
  const ScoredRows s = score(*classifier_, r);
  const json out = v2_response(*classifier_, r, s);
  EXPECT_EQ(out["outputs"][0]["datatype"], "BYTES");
  EXPECT_EQ(out["outputs"][0]["data"], json::array({"no", "yes"}));
  EXPECT_EQ(out["outputs"][1]["shape"], json::array({2, 2}));
  const auto& p = out["outputs"][1]["data"];
  EXPECT_NEAR(p[0].get<double>() + p[1].get<double>(), 1.0, 1e-9);
  EXPECT_GT(p[0].get<double>(), 0.5);
  EXPECT_GT(p[3].get<double>(), 0.5);
  // Only the requested output.
  const V2Request only = parse_v2_request(
      R"({"inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 2], "data": [0, 1]}],
          "outputs": [{"name": "probabilities"}]})",
      std::nullopt, *classifier_, 100);
  const json one = v2_response(*classifier_, only, score(*classifier_, only));
  ASSERT_EQ(one["outputs"].size(), 1u);
  EXPECT_EQ(one["outputs"][0]["name"], "probabilities");
  // Metadata names the inputs and both outputs.
  ModelEntry entry;
  entry.name = "cls";
  entry.order = {"1"};
  const json meta = v2_model_metadata(entry, *classifier_);
  EXPECT_EQ(meta["inputs"].size(), 2u);
  EXPECT_EQ(meta["inputs"][0]["name"], "a");
  EXPECT_EQ(meta["outputs"][1]["shape"], json::array({-1, 2}));
}

TEST_F(ProtocolTest, BatchScoringEqualsSingleScoring) {
  // Each request sees one colour; the batch sees both, so its category codes differ.
  std::vector<V2Request> requests;
  for (int i = 0; i < 5; ++i) {
    const std::vector<double> values(static_cast<std::size_t>(i + 1), 0.5 * i);
    const std::vector<std::string> colors(static_cast<std::size_t>(i + 1), i % 2 ? "blue" : "red");
    const json body = {
        {"inputs",
         {{{"name", "a"}, {"datatype", "FP64"}, {"shape", {i + 1}}, {"data", values}},
          {{"name", "b"}, {"datatype", "FP64"}, {"shape", {i + 1}}, {"data", values}},
          {{"name", "color"}, {"datatype", "BYTES"}, {"shape", {i + 1}}, {"data", colors}}}}};
    requests.push_back(parse_v2_request(body.dump(), std::nullopt, *linear_, 100));
  }
  std::vector<const RequestTable*> tables;
  for (const V2Request& r : requests) tables.push_back(r.table.get());
  const std::vector<ScoredRows> together = linear_->score(tables);
  ASSERT_EQ(together.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(together[i].predict, score(*linear_, requests[i]).predict);
    EXPECT_NEAR(together[i].predict[0], 1 + 0.5 * i + (i % 2 ? 0 : 5), 1e-4);
  }
}

TEST_F(ProtocolTest, ABadRowFailsOnlyItsOwnRequest) {
  const auto request = [&](const std::string& color) {
    const json body = {
        {"inputs",
         {{{"name", "a"}, {"datatype", "FP64"}, {"shape", {1}}, {"data", {1}}},
          {{"name", "b"}, {"datatype", "FP64"}, {"shape", {1}}, {"data", {0}}},
          {{"name", "color"}, {"datatype", "BYTES"}, {"shape", {1}}, {"data", {color}}}}}};
    return parse_v2_request(body.dump(), std::nullopt, *linear_, 100);
  };
  const V2Request good = request("red"), odd = request("green");
  const ScoredRows odd_alone = score(*linear_, odd);
  const std::vector<const RequestTable*> tables = {good.table.get(), odd.table.get()};
  const std::vector<ScoredRows> together = linear_->score(tables);
  EXPECT_EQ(together[0].status, 200);
  EXPECT_NEAR(together[0].predict[0], 8, 1e-4);
  EXPECT_EQ(together[1].status, odd_alone.status);
  EXPECT_EQ(together[1].predict, odd_alone.predict);
}

TEST_F(ProtocolTest, MlflowSplitAndRecords) {
  const auto split = parse_invocations(
      R"({"dataframe_split": {"columns": ["b", "a", "z", "color"], "data": [[0, 1, "x", "blue"], [1, 2, "y", "blue"]]}})",
      *linear_, 100);
  const RequestTable* t = split.get();
  const ScoredRows s = linear_->score({&t, 1}).front();
  EXPECT_NEAR(s.predict[0], 3, 1e-4);
  EXPECT_NEAR(s.predict[1], 4, 1e-4);
  EXPECT_EQ(invocations_response(*linear_, s)["predictions"].size(), 2u);

  const auto records =
      parse_invocations(R"({"dataframe_records": [{"a": 3, "b": 4}]})", *classifier_, 100);
  const RequestTable* r = records.get();
  const json out = invocations_response(*classifier_, classifier_->score({&r, 1}).front());
  EXPECT_EQ(out["predictions"], json::array({"no"}));

  const auto status = [&](const std::string& body) {
    return status_of([&] { parse_invocations(body, *linear_, 1); });
  };
  EXPECT_EQ(status(R"({"dataframe_records": [{"a": 3}]})"), 400);
  EXPECT_EQ(status(R"({"dataframe_records": [{"a": "x", "b": 1}]})"), 400);
  EXPECT_EQ(status(R"({"dataframe_split": {"columns": ["a", "b"], "data": [[1]]}})"), 400);
  EXPECT_EQ(status(R"({"instances": []})"), 400);
  EXPECT_EQ(status(R"({"dataframe_records": [{"a": 1, "b": 1}, {"a": 1, "b": 1}]})"), 413);
}

TEST_F(ProtocolTest, MlflowInstancesInputsAndCsv) {
  // y = 2a - b + 1 + 5 [color == "red"]: rows (1, 0, blue) -> 3 and (2, 1, red) -> 9.
  const auto scored = [&](const std::string& body, std::string_view type = "application/json") {
    const auto table = parse_invocations(body, *linear_, 100, kDefaultMaxJsonDepth, type);
    const RequestTable* t = table.get();
    return linear_->score({&t, 1}).front().predict;
  };
  const auto expect_rows = [](const std::vector<double>& got) {
    ASSERT_EQ(got.size(), 2u);
    EXPECT_NEAR(got[0], 3, 1e-4);
    EXPECT_NEAR(got[1], 9, 1e-4);
  };
  expect_rows(scored(
      R"({"instances": [{"a": 1, "b": 0, "color": "blue"}, {"color": "red", "a": 2, "b": 1}]})"));
  // Rows as arrays follow the model's column order.
  json rows = json::array();
  for (const json& row :
       {json{{"a", 1}, {"b", 0}, {"color", "blue"}}, json{{"a", 2}, {"b", 1}, {"color", "red"}}}) {
    json values = json::array();
    for (const FeatureSpec& f : linear_->schema().features) values.push_back(row[f.name]);
    rows.push_back(values);
  }
  expect_rows(scored(json{{"instances", rows}}.dump()));
  expect_rows(scored(json{{"inputs", rows}}.dump()));
  expect_rows(scored(R"({"inputs": {"a": [1, 2], "b": [0, 1], "color": ["blue", "red"]}})"));
  expect_rows(scored("a,b,color\n1,0,blue\n2,1,red\n", "text/csv"));
  expect_rows(scored("color,b,a,extra\nblue,0,1,x\nred,1,2,y\n", "text/csv; charset=utf-8"));

  const auto status = [&](const std::string& body, std::string_view type = "application/json") {
    return status_of([&] { parse_invocations(body, *linear_, 1, kDefaultMaxJsonDepth, type); });
  };
  EXPECT_EQ(status(R"({"instances": {"a": [1]}})"), 400);  // columns only under "inputs"
  EXPECT_EQ(status(R"({"inputs": {"a": [1], "b": [0, 1], "color": ["x"]}})"), 400);
  EXPECT_EQ(status(R"({"inputs": {"a": [1]}})"), 400);   // missing columns
  EXPECT_EQ(status(R"({"instances": [[1, 0]]})"), 400);  // one value short
  EXPECT_EQ(status(R"({"instances": [1]})"), 400);       // bare values need one column
  EXPECT_EQ(status(R"({"instances": [[1, 0, "blue"], [2, 1, "red"]]})"), 413);
  EXPECT_EQ(status("a,b\n1,0\n", "text/csv"), 400);  // no color column
  EXPECT_EQ(status("a,b,color\n1,0,blue\n2,1,red\n", "text/csv"), 413);
  EXPECT_EQ(status("a,b,color\nx,0,blue\n", "text/csv"), 400);  // text in a numeric column
  EXPECT_EQ(status("", "text/csv"), 400);
  EXPECT_EQ(status(R"({"rows": []})"), 400);
}

TEST(ModelConfigTest, ParsesVersionsTrafficAndBatching) {
  BatchingConfig defaults;
  const ModelConfig c = parse_model_config(
      "versions = [1, \"2\"]\n[traffic]\n1 = 90\n2 = 10\n[batching]\nmax_batch_rows = 8\n",
      "config.toml", defaults);
  ASSERT_TRUE(c.versions);
  EXPECT_EQ(*c.versions, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(c.traffic.at("1"), 90);
  EXPECT_EQ(c.batching.max_batch_rows, 8);
  EXPECT_EQ(c.batching.max_queue_delay_us, defaults.max_queue_delay_us);
  // Traffic alone implies the versions it names.
  const ModelConfig t = parse_model_config("[traffic]\n3 = 1\n", "c", defaults);
  EXPECT_EQ(*t.versions, std::vector<std::string>{"3"});
  EXPECT_THROW(parse_model_config("versoins = [1]\n", "c", defaults), InputError);
  EXPECT_THROW(parse_model_config("versions = [1]\n[traffic]\n2 = 1\n", "c", defaults), InputError);
  EXPECT_THROW(parse_model_config("[traffic]\n1 = -1\n", "c", defaults), InputError);
  EXPECT_THROW(parse_model_config("[batching]\nmax_rows = 1\n", "c", defaults), InputError);
}

TEST(ModelConfigTest, VersionOrder) {
  EXPECT_TRUE(version_less("2", "10"));
  EXPECT_FALSE(version_less("10", "2"));
  EXPECT_TRUE(version_less("10", "abc"));
  EXPECT_TRUE(version_less("abc", "abd"));
}

}  // namespace
}  // namespace tabula::serve
