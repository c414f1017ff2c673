// A small builder over onnx::ModelProto: initializers, nodes and graph inputs/outputs by name,
// names made unique, so the pipeline and estimator exporters read as the computation they emit.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace tabula::onnx_export {

/// One attribute of a node.
struct Attribute {
  std::string name;
  enum class Kind { kInt, kFloat, kString, kInts, kFloats, kStrings } kind = Kind::kInt;
  std::int64_t i = 0;
  float f = 0.0f;
  std::string s;
  std::vector<std::int64_t> ints;
  std::vector<float> floats;
  std::vector<std::string> strings;

  static Attribute of(std::string name, std::int64_t value);
  static Attribute of(std::string name, float value);
  static Attribute of(std::string name, std::string value);
  static Attribute of(std::string name, std::vector<std::int64_t> values);
  static Attribute of(std::string name, std::vector<float> values);
  static Attribute of(std::string name, std::vector<std::string> values);
};

inline constexpr const char* kMlDomain = "ai.onnx.ml";

class Graph {
 public:
  Graph();

  /// A constant tensor; returns its (unique) name. dims: its shape.
  std::string constant(const std::string& hint, const std::vector<double>& values,
                       std::vector<std::int64_t> dims);
  std::string constant(const std::string& hint, const std::vector<std::int64_t>& values,
                       std::vector<std::int64_t> dims);
  std::string constant(const std::string& hint, const std::vector<std::string>& values,
                       std::vector<std::int64_t> dims);

  /// A node computing op(inputs) into one new value; returns the value's name.
  std::string node(const std::string& op, std::initializer_list<std::string> inputs,
                   std::vector<Attribute> attributes = {}, const char* domain = "");
  /// A node with several outputs (names returned in order).
  std::vector<std::string> node(const std::string& op, const std::vector<std::string>& inputs,
                                int outputs, std::vector<Attribute> attributes,
                                const char* domain = "");

  /// x converted to element type `type` (onnx::TensorProto::DOUBLE, FLOAT, ...).
  std::string cast(const std::string& x, int type);
  /// The parts side by side along `axis` (a single part as it is).
  std::string concat(const std::vector<std::string>& parts, std::int64_t axis = 1);

  /// A graph input of element type `type` (onnx::TensorProto::DOUBLE, STRING, ...) and shape
  /// [N, cols] (N symbolic).
  void input(const std::string& name, int type, std::int64_t cols);
  /// Renames `value` to `name` through Identity and declares it a graph output of shape [N]
  /// (cols 0) or [N, cols].
  void output(const std::string& value, const std::string& name, int type, std::int64_t cols);

  /// A metadata_props entry of the model.
  void metadata(const std::string& key, const std::string& value);

  /// The model: IR version, opsets (default and ai.onnx.ml), producer; checked by onnx's checker.
  onnx::ModelProto finish(const std::string& doc);

 private:
  std::string unique(const std::string& hint);
  static void shape(onnx::ValueInfoProto& info, int type, std::int64_t cols);

  onnx::ModelProto model_;
  onnx::GraphProto* graph_;
  std::int64_t counter_ = 0;
};

}  // namespace tabula::onnx_export
