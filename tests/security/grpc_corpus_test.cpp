// The gRPC fuzz target's seed corpus (tests/fuzz/corpus/grpc/): valid ModelInferRequests for
// each of its models, with typed and with raw contents, written by
// `TABULA_UPDATE_CORPUS=1 ctest -R FuzzCorpus`. Every run replays every file of the folder
// (the seeds and the inputs that once failed) as the fuzzer does, so a regression fails here
// in every build, sanitizer builds included.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "security/grpc_fuzz_models.hpp"
#include "security/security_test_support.hpp"

namespace tabula::testing {
namespace {

namespace fs = std::filesystem;
using inference::ModelInferRequest;

const fs::path kGrpcCorpus = fs::path(TABULA_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / "grpc";

const GrpcFuzzModels& grpc_models() {
  static const GrpcFuzzModels models;
  return models;
}

void add_numbers(ModelInferRequest& r, const std::string& name, const std::string& type,
                 std::initializer_list<double> values) {
  auto* t = r.add_inputs();
  t->set_name(name);
  t->set_datatype(type);
  t->add_shape(static_cast<std::int64_t>(values.size()));
  auto* c = t->mutable_contents();
  for (const double v : values) {
    if (type == "FP64") c->add_fp64_contents(v);
    if (type == "FP32") c->add_fp32_contents(static_cast<float>(v));
    if (type == "INT64") c->add_int64_contents(static_cast<std::int64_t>(v));
    if (type == "INT32") c->add_int_contents(static_cast<std::int32_t>(v));
  }
}

void add_texts(ModelInferRequest& r, const std::string& name,
               std::initializer_list<const char*> values) {
  auto* t = r.add_inputs();
  t->set_name(name);
  t->set_datatype("BYTES");
  t->add_shape(static_cast<std::int64_t>(values.size()));
  for (const char* v : values) t->mutable_contents()->add_bytes_contents(v);
}

/// Three rows of the zoo's columns (a, b, color, size) with typed contents: a gap, an unseen
/// category, a missing one (an empty BYTES element).
ModelInferRequest zoo_rows(const std::string& model, const std::string& a_type) {
  ModelInferRequest r;
  r.set_model_name(model);
  r.set_id("seed-" + model);
  add_numbers(r, "a", a_type, {1.5, -2, 7});
  add_numbers(r, "b", "FP32", {0, 0.25, 2});
  add_texts(r, "color", {"red", "ultraviolet", ""});
  add_texts(r, "size", {"S", "M", "L"});
  return r;
}

/// The same request with raw_input_contents, as Triton's clients send it.
ModelInferRequest as_raw(ModelInferRequest r) {
  move_to_raw_contents(r);
  return r;
}

/// Named seeds, every one answered with OK.
std::vector<std::pair<std::string, ModelInferRequest>> grpc_seeds() {
  std::vector<std::pair<std::string, ModelInferRequest>> seeds;
  ModelInferRequest forest = zoo_rows("forest", "FP64");
  add_texts(forest, "row_id", {"r1", "r2", "r3"});
  for (const char* output : {"predict", "probabilities", "row_id"})
    forest.add_outputs()->set_name(output);
  seeds.push_back({"forest-typed", forest});
  seeds.push_back({"forest-raw", as_raw(forest)});
  seeds.push_back({"linear-typed", zoo_rows("linear", "INT64")});
  seeds.push_back({"linear-raw", as_raw(zoo_rows("linear", "INT32"))});
  seeds.push_back({"pca-typed", zoo_rows("pca", "FP64")});
  ModelInferRequest kmeans = zoo_rows("kmeans", "FP32");
  kmeans.add_outputs()->set_name("transform");
  seeds.push_back({"kmeans-raw", as_raw(kmeans)});
  seeds.push_back({"gbdt-typed", zoo_rows("gbdt", "FP64")});
  seeds.push_back({"gbdt-raw", as_raw(zoo_rows("gbdt", "FP64"))});
  return seeds;
}

TEST(FuzzCorpus, GrpcSeedsAreAnsweredAndEveryInputIsHandled) {
  const auto seeds = grpc_seeds();
  if (std::getenv("TABULA_UPDATE_CORPUS")) {
    fs::create_directories(kGrpcCorpus);  // inputs that once failed stay
    for (const auto& [name, message] : seeds)
      write_bytes((kGrpcCorpus / name).string(), message.SerializeAsString());
  }
  for (const auto& [name, message] : seeds) {
    inference::ModelInferResponse response;
    const grpc::Status status = grpc_infer(grpc_models(), message, response);
    EXPECT_TRUE(status.ok()) << name << ": " << status.error_message();
    EXPECT_GT(response.outputs_size(), 0) << name;
    if (name.ends_with("-raw"))  // answered in kind: one raw entry per output
      EXPECT_EQ(response.raw_output_contents_size(), response.outputs_size()) << name;
    EXPECT_TRUE(fs::exists(kGrpcCorpus / name))
        << "no seed " << name << " (TABULA_UPDATE_CORPUS=1 rewrites the seeds)";
  }
  for (const auto& e : fs::directory_iterator(kGrpcCorpus)) {
    SCOPED_TRACE(e.path().string());
    ModelInferRequest message;
    const std::string bytes = read_bytes(e.path().string());
    if (!message.ParseFromString(bytes)) continue;  // gRPC would refuse it before the service
    inference::ModelInferResponse response;
    const grpc::Status status = grpc_infer(grpc_models(), message, response);
    EXPECT_TRUE(status.ok() || is_client_error(status.error_code())) << status.error_message();
  }
}

}  // namespace
}  // namespace tabula::testing
