// gRPC inference requests: every count, shape, datatype and byte length checked before use, and
// answers that agree with the REST protocol's for the same rows.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#include "serve/grpc_protocol.hpp"
#include "serve/http_error.hpp"
#include "serve/v2_protocol.hpp"
#include "support/served_models.hpp"

namespace tabula::serve {
namespace {

using inference::ModelInferRequest;
using inference::ModelInferResponse;

std::string raw_doubles(const std::vector<double>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double));
}

class GrpcProtocolTest : public testing::ServedModelsTest {
 protected:
  /// a, b and color of three rows, with typed contents.
  static ModelInferRequest typed() {
    ModelInferRequest r;
    r.set_model_name("lin");
    r.set_id("g1");
    auto* a = r.add_inputs();
    a->set_name("a");
    a->set_datatype("FP32");
    a->add_shape(3);
    for (float v : {1.f, 2.f, 3.f}) a->mutable_contents()->add_fp32_contents(v);
    auto* b = r.add_inputs();
    b->set_name("b");
    b->set_datatype("INT64");
    b->add_shape(3);
    b->add_shape(1);
    for (std::int64_t v : {0, 1, 4}) b->mutable_contents()->add_int64_contents(v);
    auto* color = r.add_inputs();
    color->set_name("color");
    color->set_datatype("BYTES");
    color->add_shape(3);
    for (const char* v : {"red", "blue", "red"}) color->mutable_contents()->add_bytes_contents(v);
    return r;
  }

  /// The status and message a request is refused with (200 and "" when accepted).
  std::pair<int, std::string> refusal(const ModelInferRequest& r, std::int64_t max_rows = 100) {
    try {
      parse_grpc_request(r, *linear_, max_rows);
    } catch (const HttpError& e) {
      return {e.status(), e.what()};
    }
    return {200, ""};
  }

  ModelInferResponse answer(const ServedModel& model, const ModelInferRequest& r) {
    const GrpcInferRequest parsed = parse_grpc_request(r, model, 100);
    const RequestTable* t = parsed.request.table.get();
    const ScoredRows rows = model.score({&t, 1}).front();
    EXPECT_EQ(rows.status, 200) << rows.error;
    ModelInferResponse out;
    fill_grpc_response(model, r, parsed, rows, out);
    return out;
  }
};

TEST_F(GrpcProtocolTest, TypedContentsScoreAsTheRestProtocolDoes) {
  const ModelInferResponse out = answer(*linear_, typed());
  EXPECT_EQ(out.id(), "g1");
  EXPECT_EQ(out.model_name(), "lin");
  EXPECT_EQ(out.model_version(), "3");
  ASSERT_EQ(out.outputs_size(), 1);
  EXPECT_EQ(out.outputs(0).name(), "predict");
  EXPECT_EQ(out.outputs(0).datatype(), "FP64");
  EXPECT_EQ(out.raw_output_contents_size(), 0);
  // y = 2a - b + 1 + 5 [red]
  const std::vector<double> expected = {8, 4, 8};
  ASSERT_EQ(out.outputs(0).contents().fp64_contents_size(), 3);
  for (int i = 0; i < 3; ++i)
    EXPECT_NEAR(out.outputs(0).contents().fp64_contents(i), expected[i], 1e-4);

  const std::string body = R"({"inputs": [
      {"name": "a", "datatype": "FP32", "shape": [3], "data": [1, 2, 3]},
      {"name": "b", "datatype": "INT64", "shape": [3], "data": [0, 1, 4]},
      {"name": "color", "datatype": "BYTES", "shape": [3], "data": ["red", "blue", "red"]}]})";
  const V2Request rest = parse_v2_request(body, std::nullopt, *linear_, 100);
  const RequestTable* t = rest.table.get();
  const nlohmann::json json = v2_response(*linear_, rest, linear_->score({&t, 1}).front());
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(json["outputs"][0]["data"][i].get<double>(),
              out.outputs(0).contents().fp64_contents(i));
}

TEST_F(GrpcProtocolTest, RawInputsGetRawOutputsAndTextLabels) {
  ModelInferRequest r;
  r.set_model_name("cls");
  for (const char* name : {"a", "b"}) {
    auto* t = r.add_inputs();
    t->set_name(name);
    t->set_datatype("FP64");
    t->add_shape(2);
  }
  *r.add_raw_input_contents() = raw_doubles({1, 9});
  *r.add_raw_input_contents() = raw_doubles({0, 0});
  r.add_outputs()->set_name("predict");
  const ModelInferResponse out = answer(*classifier_, r);
  ASSERT_EQ(out.outputs_size(), 1);
  EXPECT_EQ(out.outputs(0).datatype(), "BYTES");
  ASSERT_EQ(out.raw_output_contents_size(), 1);
  // Two length-prefixed labels: "no" (a < 5) and "yes".
  const std::string& raw = out.raw_output_contents(0);
  const std::string expected = std::string("\x02\0\0\0no", 6) + std::string("\x03\0\0\0yes", 7);
  EXPECT_EQ(raw, expected);
}

TEST_F(GrpcProtocolTest, EveryFieldIsCheckedBeforeUse) {
  using Mutate = std::function<void(ModelInferRequest&)>;
  struct Case {
    const char* what;
    Mutate mutate;
    int status;
    const char* message;
  };
  const std::int64_t big = std::int64_t{1} << 40;
  const std::vector<Case> cases = {
      {"no inputs", [](ModelInferRequest& r) { r.clear_inputs(); }, 400, "inputs"},
      {"no name", [](ModelInferRequest& r) { r.mutable_inputs(0)->clear_name(); }, 400,
       "missing \"name\""},
      {"unknown datatype", [](ModelInferRequest& r) { r.mutable_inputs(0)->set_datatype("X"); },
       400, "datatype 'X'"},
      {"rank 0", [](ModelInferRequest& r) { r.mutable_inputs(0)->clear_shape(); }, 400, "shape"},
      {"negative dimension", [](ModelInferRequest& r) { r.mutable_inputs(0)->set_shape(0, -3); },
       400, "shape dimensions"},
      {"overflowing shape",
       [&](ModelInferRequest& r) {
         r.mutable_inputs(0)->set_shape(0, big);
         r.mutable_inputs(0)->add_shape(big);
       },
       400, "shape dimensions"},
      {"product beyond the limit",
       [](ModelInferRequest& r) {
         r.mutable_inputs(0)->set_shape(0, 1 << 30);
         r.mutable_inputs(0)->add_shape(1 << 30);
       },
       400, "elements"},
      {"shape vs contents", [](ModelInferRequest& r) { r.mutable_inputs(0)->set_shape(0, 4); }, 400,
       "shape holds 4 elements but the contents have 3"},
      {"another field filled",
       [](ModelInferRequest& r) { r.mutable_inputs(0)->mutable_contents()->add_fp64_contents(1); },
       400, "field other than"},
      {"raw for some inputs",
       [](ModelInferRequest& r) {
         *r.add_raw_input_contents() = raw_doubles({1, 2, 3});
       },
       400, "raw_input_contents has 1 entries for 3 inputs"},
      {"rows disagree", [](ModelInferRequest& r) { r.mutable_inputs(2)->set_shape(0, 2); }, 400,
       "shape holds 2"},
      {"missing column", [](ModelInferRequest& r) { r.mutable_inputs()->RemoveLast(); }, 400,
       "missing input column(s) 'color'"},
      {"unknown output", [](ModelInferRequest& r) { r.add_outputs()->set_name("proba"); }, 400,
       "has no output 'proba'"},
      {"unnamed output", [](ModelInferRequest& r) { r.add_outputs(); }, 400, "outputs[0]"},
      {"infinite value",
       [](ModelInferRequest& r) {
         r.mutable_inputs(0)->mutable_contents()->set_fp32_contents(
             1, std::numeric_limits<float>::infinity());
       },
       400, "infinite"},
  };
  for (const Case& c : cases) {
    ModelInferRequest r = typed();
    c.mutate(r);
    const auto [status, message] = refusal(r);
    EXPECT_EQ(status, c.status) << c.what;
    EXPECT_NE(message.find(c.message), std::string::npos) << c.what << ": " << message;
  }
  EXPECT_EQ(refusal(typed(), 2).first, 413);
  EXPECT_EQ(refusal(typed()).first, 200);
}

TEST_F(GrpcProtocolTest, RawBytesAreCheckedAgainstTheShape) {
  const auto raw_request = [](const std::string& datatype, std::int64_t rows, std::string bytes) {
    ModelInferRequest r;
    r.set_model_name("lin");
    auto* t = r.add_inputs();
    t->set_name("x");
    t->set_datatype(datatype);
    t->add_shape(rows);
    t->add_shape(3);
    *r.add_raw_input_contents() = std::move(bytes);
    return r;
  };
  EXPECT_NE(refusal(raw_request("FP64", 1, raw_doubles({1, 2}))).second.find("16 bytes"),
            std::string::npos);
  EXPECT_EQ(refusal(raw_request("FP64", 1, raw_doubles({1, 2, 3}))).first, 400);  // color
  const auto [status, message] = refusal(raw_request("BYTES", 1, std::string("\x09\0\0\0ab", 6)));
  EXPECT_EQ(status, 400);
  EXPECT_NE(message.find("truncated BYTES element"), std::string::npos) << message;
  // A huge claimed shape with few bytes is refused by size, before any allocation.
  EXPECT_NE(refusal(raw_request("INT32", 1 << 30, "abcd")).second.find("do not match"),
            std::string::npos);
}

TEST_F(GrpcProtocolTest, IntegerContentsMustFitTheirDatatype) {
  ModelInferRequest r = typed();
  auto* b = r.mutable_inputs(1);
  b->set_datatype("INT8");
  b->mutable_contents()->clear_int64_contents();
  for (int v : {0, 1, 200}) b->mutable_contents()->add_int_contents(v);
  const auto [status, message] = refusal(r);
  EXPECT_EQ(status, 400);
  EXPECT_NE(message.find("outside the range of INT8"), std::string::npos) << message;
  b->mutable_contents()->set_int_contents(2, 4);
  EXPECT_EQ(refusal(r).first, 200);
}

TEST(GrpcStatusTest, HttpStatusesMapToGrpcCodes) {
  EXPECT_EQ(to_grpc_status(400, "x").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(to_grpc_status(404, "x").error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(to_grpc_status(413, "x").error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(to_grpc_status(503, "x").error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(to_grpc_status(504, "x").error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(to_grpc_status(500, "boom").error_message(), "boom");
}

}  // namespace
}  // namespace tabula::serve
