// libFuzzer target for the gRPC server's inference requests: the input is a serialized
// inference.ModelInferRequest, decoded and scored as ModelInfer does (grpc_fuzz_models.hpp:
// parse_grpc_request, the model's scoring, fill_grpc_response) for five zoo models named by
// model_name. Every input must give a response or a client error status (INVALID_ARGUMENT,
// NOT_FOUND, RESOURCE_EXHAUSTED), never a fault. A custom mutator alternates libFuzzer's byte
// mutations with structured ones on the decoded message: another model, datatype or shape
// (0, -1, n +- 1, 2^30, 2^62), an input dropped or repeated, typed contents turned raw, raw bytes
// cut or grown, outputs renamed.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>

#include <google/protobuf/stubs/logging.h>

#include "security/grpc_fuzz_models.hpp"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace {

using inference::ModelInferRequest;
using tabula::testing::GrpcFuzzModels;

const GrpcFuzzModels& models() {
  static const GrpcFuzzModels m;
  return m;
}

template <typename T>
const T& pick(const std::vector<T>& options, std::mt19937_64& rng) {
  return options[rng() % options.size()];
}

/// One structured edit of a decoded request.
void mutate_message(ModelInferRequest& r, std::mt19937_64& rng) {
  static const std::vector<std::string> names = {"forest", "linear", "pca", "kmeans", "gbdt", ""};
  static const std::vector<std::string> types = {"FP64",  "FP32",   "INT64", "INT32", "INT8",
                                                 "UINT8", "UINT64", "BOOL",  "BYTES", "FP16"};
  static const std::vector<std::string> outputs = {"predict", "probabilities", "transform",
                                                   "row_id", ""};
  const int inputs = r.inputs_size();
  auto* input = inputs > 0 ? r.mutable_inputs(static_cast<int>(rng() % inputs)) : nullptr;
  switch (rng() % 8) {
    case 0:
      r.set_model_name(pick(names, rng));
      break;
    case 1:
      if (input != nullptr) input->set_datatype(pick(types, rng));
      break;
    case 2:
      if (input != nullptr && input->shape_size() > 0) {
        const std::int64_t n = input->shape(0);
        const std::vector<std::int64_t> dims = {0,
                                                -1,
                                                n - 1,
                                                n + 1,
                                                std::int64_t{1} << 30,
                                                (std::int64_t{1} << 30) + 1,
                                                std::int64_t{1} << 62};
        input->set_shape(static_cast<int>(rng() % input->shape_size()), pick(dims, rng));
      }
      break;
    case 3:
      if (input != nullptr && rng() % 2)
        *r.add_inputs() = *input;
      else if (inputs > 0)
        r.mutable_inputs()->RemoveLast();
      break;
    case 4:
      tabula::testing::move_to_raw_contents(r);
      break;
    case 5:
      if (r.raw_input_contents_size() > 0) {
        std::string& raw =
            *r.mutable_raw_input_contents(static_cast<int>(rng() % r.raw_input_contents_size()));
        if (rng() % 2 && !raw.empty())
          raw.resize(rng() % raw.size());
        else
          raw.append(rng() % 16, static_cast<char>(rng()));
      }
      break;
    case 6:
      r.add_outputs()->set_name(pick(outputs, rng));
      break;
    default:
      if (input != nullptr) input->add_shape(pick<std::int64_t>({1, 0, 4}, rng));
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Strings that are not UTF-8 fail to parse (proto3) and protobuf logs each: silence it.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  std::mt19937_64 rng(seed);
  ModelInferRequest message;
  if (rng() % 2 || !message.ParseFromArray(data, static_cast<int>(size)))
    return LLVMFuzzerMutate(data, size, max_size);
  mutate_message(message, rng);
  const std::string bytes = message.SerializeAsString();
  if (bytes.size() > max_size) return size;
  std::memcpy(data, bytes.data(), bytes.size());
  return bytes.size();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ModelInferRequest message;
  // What gRPC cannot decode never reaches the service.
  if (size > INT32_MAX || !message.ParseFromArray(data, static_cast<int>(size))) return 0;
  inference::ModelInferResponse response;
  const grpc::Status status = tabula::testing::grpc_infer(models(), message, response);
  if (!status.ok() && !tabula::testing::is_client_error(status.error_code())) __builtin_trap();
  if (status.ok()) (void)response.SerializeAsString();
  return 0;
}
