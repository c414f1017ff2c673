// libFuzzer target for inference request bodies: KServe v2 JSON (with and without Triton's
// binary tensors) and MLflow /invocations, parsed for real model files (a forest classifier
// with every transformer, a linear regressor, a PCA) and scored as the server would. The
// first byte picks the model (byte & 3, modulo 3) and the protocol ((byte >> 2) % 3: v2 JSON,
// v2 with binary tensors, MLflow); the rest is the body. Every input must give a
// response or an HttpError (a 4xx), never a fault.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "security/model_zoo.hpp"
#include "serve/http_error.hpp"
#include "serve/metrics.hpp"
#include "serve/mlflow_protocol.hpp"
#include "serve/served_model.hpp"
#include "serve/v2_protocol.hpp"
#include "tabula/core/error.hpp"

namespace {

using namespace tabula;

struct Models {
  serve::Metrics metrics;
  std::vector<std::unique_ptr<serve::ServedModel>> served;

  Models() {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("tabula-request-fuzz-" + std::to_string(::getpid()));
    Backend& cpu = DeviceRegistry::instance().backend(Device::cpu());
    for (const auto& m : testing::write_model_zoo(dir))
      if (m.name == "forest-classification-rich" || m.name == "linear-regression-default" ||
          m.name == "pca-transform-rich")
        served.push_back(std::make_unique<serve::ServedModel>(
            m.name, "1", load_model(m.path), serve::BatchingConfig{}, cpu, metrics));
    std::filesystem::remove_all(dir);
  }
};

Models& models() {
  static Models m;
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Models& all = models();
  const serve::ServedModel& model = *all.served[(data[0] & 3u) % all.served.size()];
  const int protocol = (data[0] >> 2) % 3;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    std::shared_ptr<serve::RequestTable> table;
    serve::V2Request v2;
    if (protocol == 2) {
      // The high bit: the body as text/csv (MLflow's CSV input) instead of JSON.
      table = serve::parse_invocations(body, model, 1000, serve::kDefaultMaxJsonDepth,
                                       (data[0] & 0x80) != 0 ? "text/csv" : "application/json");
    } else {
      const std::optional<std::int64_t> binary =
          protocol == 1 ? std::optional<std::int64_t>(body.size() / 2) : std::nullopt;
      v2 = serve::parse_v2_request(body, binary, model, 1000);
      table = v2.table;
    }
    const serve::RequestTable* tables[] = {table.get()};
    const std::vector<serve::ScoredRows> scored = model.score(tables);
    if (scored.front().status == 200) {
      if (protocol == 2)
        (void)serve::invocations_response(model, scored.front()).dump();
      else
        (void)serve::v2_response(model, v2, scored.front()).dump();
    }
  } catch (const serve::HttpError& e) {
    if (e.status() < 400 || e.status() > 499) __builtin_trap();
  }
  return 0;
}
