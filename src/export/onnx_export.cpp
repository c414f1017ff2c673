#include "tabula/export/onnx.hpp"

#include "export/onnx_parts.hpp"
#include "io/atomic_file.hpp"
#include "tabula/artifact/model_file.hpp"
#include "tabula/core/error.hpp"

namespace tabula {

namespace onnx_export {

void refuse(const ArtifactReader& in, const std::string& what) {
  throw InputError("model file '" + in.path() + "': cannot export to ONNX: " + what);
}

}  // namespace onnx_export

void export_onnx(const std::string& model_path, const std::string& out_path) {
  // Every check of a load first (counts, indices, sizes against each other): the exporter then
  // reads arrays that are known to agree.
  const LoadedModel loaded = load_model(model_path);
  const ArtifactReader in(model_path);
  onnx_export::Graph graph;
  std::int64_t width = 0;
  const std::string features = onnx_export::emit_pipeline(graph, in, width);
  onnx_export::emit_estimator(graph, in, features, width);
  const onnx::ModelProto model = graph.finish("tabula model " + loaded.estimator->name() + " (" +
                                              std::string(to_string(loaded.estimator->task())) +
                                              ") exported from " + model_path);
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw Error("ONNX export: serialising the model failed");
  detail::write_file_atomically(out_path, bytes);
}

}  // namespace tabula
