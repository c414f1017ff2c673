#include "export/onnx_graph.hpp"

#include <onnx/checker.h>

#include <utility>

#include "tabula/core/error.hpp"
#include "tabula/version.hpp"

namespace tabula::onnx_export {
namespace {

// What the exported graphs use: ONNX 1.12's opsets (Debian 12's libonnx checks them), which
// every current runtime reads.
constexpr std::int64_t kIrVersion = 8;
constexpr std::int64_t kDefaultOpset = 17;
constexpr std::int64_t kMlOpset = 3;

// An attribute of one kind with its value in `field`.
template <typename T>
Attribute attribute(std::string name, Attribute::Kind kind, T Attribute::*field, T value) {
  Attribute a;
  a.name = std::move(name);
  a.kind = kind;
  a.*field = std::move(value);
  return a;
}

}  // namespace

Attribute Attribute::of(std::string name, std::int64_t value) {
  return attribute(std::move(name), Kind::kInt, &Attribute::i, value);
}
Attribute Attribute::of(std::string name, float value) {
  return attribute(std::move(name), Kind::kFloat, &Attribute::f, value);
}
Attribute Attribute::of(std::string name, std::string value) {
  return attribute(std::move(name), Kind::kString, &Attribute::s, std::move(value));
}
Attribute Attribute::of(std::string name, std::vector<std::int64_t> values) {
  return attribute(std::move(name), Kind::kInts, &Attribute::ints, std::move(values));
}
Attribute Attribute::of(std::string name, std::vector<float> values) {
  return attribute(std::move(name), Kind::kFloats, &Attribute::floats, std::move(values));
}
Attribute Attribute::of(std::string name, std::vector<std::string> values) {
  return attribute(std::move(name), Kind::kStrings, &Attribute::strings, std::move(values));
}

Graph::Graph() : graph_(model_.mutable_graph()) { graph_->set_name("tabula"); }

std::string Graph::unique(const std::string& hint) {
  return hint + "_" + std::to_string(counter_++);
}

namespace {

// An initializer of element type `type` named `name`; add(tensor, value) stores one value.
template <typename T, typename Add>
std::string initializer(onnx::GraphProto& graph, std::string name, int type,
                        const std::vector<T>& values, const std::vector<std::int64_t>& dims,
                        Add add) {
  onnx::TensorProto* t = graph.add_initializer();
  t->set_name(std::move(name));
  t->set_data_type(type);
  for (std::int64_t d : dims) t->add_dims(d);
  for (const T& v : values) add(*t, v);
  return t->name();
}

}  // namespace

std::string Graph::constant(const std::string& hint, const std::vector<double>& values,
                            std::vector<std::int64_t> dims) {
  return initializer(*graph_, unique(hint), onnx::TensorProto::DOUBLE, values, dims,
                     [](onnx::TensorProto& t, double v) { t.add_double_data(v); });
}

std::string Graph::constant(const std::string& hint, const std::vector<std::int64_t>& values,
                            std::vector<std::int64_t> dims) {
  return initializer(*graph_, unique(hint), onnx::TensorProto::INT64, values, dims,
                     [](onnx::TensorProto& t, std::int64_t v) { t.add_int64_data(v); });
}

std::string Graph::constant(const std::string& hint, const std::vector<std::string>& values,
                            std::vector<std::int64_t> dims) {
  return initializer(*graph_, unique(hint), onnx::TensorProto::STRING, values, dims,
                     [](onnx::TensorProto& t, const std::string& v) { t.add_string_data(v); });
}

std::string Graph::node(const std::string& op, std::initializer_list<std::string> inputs,
                        std::vector<Attribute> attributes, const char* domain) {
  return node(op, std::vector<std::string>(inputs), 1, std::move(attributes), domain).front();
}

std::vector<std::string> Graph::node(const std::string& op, const std::vector<std::string>& inputs,
                                     int outputs, std::vector<Attribute> attributes,
                                     const char* domain) {
  onnx::NodeProto* n = graph_->add_node();
  n->set_op_type(op);
  n->set_name(unique(op));
  n->set_domain(domain);
  for (const std::string& in : inputs) n->add_input(in);
  std::vector<std::string> names;
  for (int o = 0; o < outputs; ++o) {
    names.push_back(unique(op + "_out"));
    n->add_output(names.back());
  }
  for (const Attribute& a : attributes) {
    onnx::AttributeProto* p = n->add_attribute();
    p->set_name(a.name);
    switch (a.kind) {
      case Attribute::Kind::kInt:
        p->set_type(onnx::AttributeProto::INT);
        p->set_i(a.i);
        break;
      case Attribute::Kind::kFloat:
        p->set_type(onnx::AttributeProto::FLOAT);
        p->set_f(a.f);
        break;
      case Attribute::Kind::kString:
        p->set_type(onnx::AttributeProto::STRING);
        p->set_s(a.s);
        break;
      case Attribute::Kind::kInts:
        p->set_type(onnx::AttributeProto::INTS);
        for (std::int64_t v : a.ints) p->add_ints(v);
        break;
      case Attribute::Kind::kFloats:
        p->set_type(onnx::AttributeProto::FLOATS);
        for (float v : a.floats) p->add_floats(v);
        break;
      case Attribute::Kind::kStrings:
        p->set_type(onnx::AttributeProto::STRINGS);
        for (const std::string& v : a.strings) p->add_strings(v);
        break;
    }
  }
  return names;
}

std::string Graph::cast(const std::string& x, int type) {
  return node("Cast", {x}, {Attribute::of("to", std::int64_t{type})});
}

std::string Graph::concat(const std::vector<std::string>& parts, std::int64_t axis) {
  if (parts.size() == 1) return parts[0];
  return node("Concat", parts, 1, {Attribute::of("axis", axis)}).front();
}

void Graph::shape(onnx::ValueInfoProto& info, int type, std::int64_t cols) {
  onnx::TypeProto::Tensor* t = info.mutable_type()->mutable_tensor_type();
  t->set_elem_type(type);
  t->mutable_shape()->add_dim()->set_dim_param("N");
  if (cols > 0) t->mutable_shape()->add_dim()->set_dim_value(cols);
}

void Graph::input(const std::string& name, int type, std::int64_t cols) {
  onnx::ValueInfoProto* info = graph_->add_input();
  info->set_name(name);
  shape(*info, type, cols);
}

void Graph::output(const std::string& value, const std::string& name, int type, std::int64_t cols) {
  onnx::NodeProto* n = graph_->add_node();
  n->set_op_type("Identity");
  n->set_name(unique("Identity"));
  n->add_input(value);
  n->add_output(name);
  onnx::ValueInfoProto* info = graph_->add_output();
  info->set_name(name);
  shape(*info, type, cols);
}

void Graph::metadata(const std::string& key, const std::string& value) {
  onnx::StringStringEntryProto* entry = model_.add_metadata_props();
  entry->set_key(key);
  entry->set_value(value);
}

onnx::ModelProto Graph::finish(const std::string& doc) {
  model_.set_ir_version(kIrVersion);
  model_.set_producer_name("tabula");
  model_.set_producer_version(kVersion);
  model_.set_doc_string(doc);
  onnx::OperatorSetIdProto* main = model_.add_opset_import();
  main->set_domain("");
  main->set_version(kDefaultOpset);
  onnx::OperatorSetIdProto* ml = model_.add_opset_import();
  ml->set_domain(kMlDomain);
  ml->set_version(kMlOpset);
  try {
    onnx::checker::check_model(model_);
  } catch (const std::exception& e) {
    throw Error(std::string("ONNX export: the graph fails onnx's checker (a tabula bug): ") +
                e.what());
  }
  return std::move(model_);
}

}  // namespace tabula::onnx_export
