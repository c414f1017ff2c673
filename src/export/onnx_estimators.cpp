// The estimator half of an exported graph, from the model file's arrays (the names of
// docs/artifact-format.md): forests and gradient boosting as ai.onnx.ml tree ensembles, the linear
// family and PCA as float64 matrix products, k-means as distances by matrix products, the baselines
// as constants. Class labels come back as written: int64 when every label is an integer, double for
// other numbers, else strings.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "export/onnx_parts.hpp"

namespace tabula::onnx_export {
namespace {

using Json = nlohmann::json;

// Rows of x as [N] int64 / [N] ... : the row count as a 1-element int64 tensor.
std::string row_count(Graph& g, const std::string& x) {
  const std::string shape = g.node("Shape", {x});
  return g.node("Slice", {shape, g.constant("zero", std::vector<std::int64_t>{0}, {1}),
                          g.constant("one", std::vector<std::int64_t>{1}, {1})});
}

// The labels output: class index [N] int64 -> the label as written.
void emit_labels(Graph& g, const ArtifactReader& in, const std::string& index) {
  const Json& h = in.header();
  const Json& classes = h.at("classes");
  const auto k = static_cast<std::int64_t>(classes.size());
  bool integers = true, numbers = true;
  for (const Json& c : classes) {
    integers = integers && c.is_number_integer();
    numbers = numbers && c.is_number();
  }
  std::string table;
  int type = onnx::TensorProto::INT64;
  if (integers) {
    table = g.constant("classes", classes.get<std::vector<std::int64_t>>(), {k});
  } else if (numbers) {
    table = g.constant("classes", classes.get<std::vector<double>>(), {k});
    type = onnx::TensorProto::DOUBLE;
  } else {
    std::vector<std::string> text;
    const Json& spelt = h.contains("class_labels") ? h.at("class_labels") : classes;
    for (const Json& c : spelt) text.push_back(c.is_string() ? c.get<std::string>() : c.dump());
    table = g.constant("classes", text, {k});
    type = onnx::TensorProto::STRING;
  }
  g.output(g.node("Gather", {table, index}), "label", type, 0);
}

// Classifier outputs from probabilities [N, k] (double or float): the label of the first
// largest, as tabula's argmax.
void emit_classifier_outputs(Graph& g, const ArtifactReader& in, const std::string& proba,
                             int proba_type, std::int64_t k) {
  const std::string index =
      g.node("ArgMax", {proba},
             {Attribute::of("axis", std::int64_t{1}), Attribute::of("keepdims", std::int64_t{0}),
              Attribute::of("select_last_index", std::int64_t{0})});
  emit_labels(g, in, index);
  g.output(proba, "probabilities", proba_type, k);
}

// A [1, w] constant row repeated for every row of x.
std::string repeat_row(Graph& g, const std::string& x, const std::vector<double>& row) {
  const auto w = static_cast<std::int64_t>(row.size());
  const std::string shape =
      g.concat({row_count(g, x), g.constant("width", std::vector<std::int64_t>{w}, {1})}, 0);
  return g.node("Expand", {g.constant("row", row, {1, w}), shape});
}

// A tree ensemble's node attributes from the arrays `<prefix>.*`, and one (tree, node, target,
// weight) entry per leaf and output from `leaf(tree, global node, leaf entries)`.
struct LeafWeights {
  std::vector<std::int64_t> tree, node, target;
  std::vector<float> weight;
  void add(std::int64_t t, std::int64_t n, std::int64_t target_id, double w) {
    tree.push_back(t);
    node.push_back(n);
    target.push_back(target_id);
    weight.push_back(static_cast<float>(w));
  }
};

template <typename Leaf>
std::vector<Attribute> ensemble_nodes(const ArtifactReader& in, const std::string& prefix,
                                      std::string post_transform, const Leaf& leaf) {
  const auto offsets = in.int64s(prefix + ".offsets");
  const auto feature = in.int32s(prefix + ".feature");
  const auto threshold = in.floats(prefix + ".threshold");
  const auto left = in.int32s(prefix + ".left");
  const auto right = in.int32s(prefix + ".right");
  const auto missing_left = in.uint8s(prefix + ".missing_left");
  const auto trees = static_cast<std::int64_t>(offsets.size()) - 1;
  std::vector<std::int64_t> tree_ids, node_ids, features, true_ids, false_ids, tracks;
  std::vector<float> thresholds;
  std::vector<std::string> modes;
  for (std::int64_t t = 0; t < trees; ++t) {
    for (std::int64_t g_node = offsets[t]; g_node < offsets[t + 1]; ++g_node) {
      const auto u = static_cast<std::size_t>(g_node);
      const std::int64_t id = g_node - offsets[t];
      tree_ids.push_back(t);
      node_ids.push_back(id);
      const bool is_leaf = feature[u] < 0;
      modes.push_back(is_leaf ? "LEAF" : "BRANCH_LEQ");  // x <= threshold: left, as tabula
      features.push_back(is_leaf ? 0 : feature[u]);
      thresholds.push_back(is_leaf ? 0.0f : threshold[u]);
      true_ids.push_back(is_leaf ? 0 : left[u]);
      false_ids.push_back(is_leaf ? 0 : right[u]);
      tracks.push_back(is_leaf ? 0 : missing_left[u]);
      if (is_leaf) leaf(t, id, g_node);
    }
  }
  return {Attribute::of("nodes_treeids", tree_ids),
          Attribute::of("nodes_nodeids", node_ids),
          Attribute::of("nodes_featureids", features),
          Attribute::of("nodes_values", thresholds),
          Attribute::of("nodes_modes", modes),
          Attribute::of("nodes_truenodeids", true_ids),
          Attribute::of("nodes_falsenodeids", false_ids),
          Attribute::of("nodes_missing_value_tracks_true", tracks),
          Attribute::of("post_transform", std::move(post_transform))};
}

// The classifier's or regressor's leaf attributes and node: probabilities (k classes) or the
// one variable.
void emit_ensemble(Graph& g, const ArtifactReader& in, const std::string& x,
                   std::vector<Attribute> a, const LeafWeights& w, bool classifier,
                   std::int64_t k) {
  if (classifier) {
    std::vector<std::int64_t> ids(static_cast<std::size_t>(k));
    for (std::int64_t c = 0; c < k; ++c) ids[static_cast<std::size_t>(c)] = c;
    a.push_back(Attribute::of("classlabels_int64s", ids));
    a.push_back(Attribute::of("class_treeids", w.tree));
    a.push_back(Attribute::of("class_nodeids", w.node));
    a.push_back(Attribute::of("class_ids", w.target));
    a.push_back(Attribute::of("class_weights", w.weight));
    const std::vector<std::string> out =
        g.node("TreeEnsembleClassifier", {x}, 2, std::move(a), kMlDomain);
    emit_classifier_outputs(g, in, out[1], onnx::TensorProto::FLOAT, k);
    return;
  }
  a.push_back(Attribute::of("n_targets", std::int64_t{1}));
  a.push_back(Attribute::of("target_treeids", w.tree));
  a.push_back(Attribute::of("target_nodeids", w.node));
  a.push_back(Attribute::of("target_ids", w.target));
  a.push_back(Attribute::of("target_weights", w.weight));
  g.output(g.node("TreeEnsembleRegressor", {x}, std::move(a), kMlDomain), "variable",
           onnx::TensorProto::FLOAT, 1);
}

void emit_forest(Graph& g, const ArtifactReader& in, const std::string& x) {
  const Json& meta = in.header().at("forest");
  const bool classifier = meta.at("task") == "classification";
  const auto values = in.doubles("forest.values");
  const std::int64_t k = meta.at("value_size").get<std::int64_t>();
  const double trees = static_cast<double>(in.int64s("forest.offsets").size() - 1);
  LeafWeights w;
  std::vector<Attribute> a =
      ensemble_nodes(in, "forest", "NONE", [&](std::int64_t t, std::int64_t id, std::int64_t at) {
        // Two classes: one weight per leaf, class 1's probability under class id 0, as
        // skl2onnx writes it: runtimes read that as the binary case and return [1 - p, p]
        // (half the weights to add: 19% more rows/s in onnxruntime).
        const bool binary = classifier && k == 2;
        for (std::int64_t c = binary ? 1 : 0; c < k; ++c) {
          // Classifier: each tree's probabilities / trees, summed; regressor: averaged.
          const double v = values[static_cast<std::size_t>(at * k + c)];
          w.add(t, id, binary ? 0 : c, classifier ? v / trees : v);
        }
      });
  if (!classifier) a.push_back(Attribute::of("aggregate_function", std::string("AVERAGE")));
  emit_ensemble(g, in, x, std::move(a), w, classifier, k);
}

// Gradient boosting: raw scores summed over the trees (iteration i's tree for score c is
// i * k + c) from the baseline (base_values), then the sigmoid (one score, two classes) or the
// softmax, as scikit-learn's exporter writes HistGradientBoosting*.
// Categorical splits send a set of categories left. TreeEnsembleRegressor/Classifier compare one
// threshold per node, so a faithful graph would need a node per category and a copy of the
// subtree below each: the export refuses, naming the feature, rather than write another model.
void refuse_category_splits(const ArtifactReader& in) {
  const std::vector<std::int64_t> sets = in.int64s("gbdt.category_set");
  const std::vector<std::int64_t> feature = in.int64s("gbdt.feature");
  for (std::size_t g = 0; g < sets.size() && g < feature.size(); ++g) {
    if (sets[g] < 0) continue;
    const Json& header = in.header();
    std::string name = "input column " + std::to_string(feature[g]);
    if (header.contains("pipeline") && header.at("pipeline").contains("output_names")) {
      const Json& names = header.at("pipeline").at("output_names");
      if (feature[g] >= 0 && static_cast<std::size_t>(feature[g]) < names.size())
        name = "'" + names.at(static_cast<std::size_t>(feature[g])).get<std::string>() + "'";
    }
    refuse(in, "the gradient boosting model splits the categorical feature " + name +
                   " by sets of categories, which ONNX's TreeEnsemble nodes (one threshold "
                   "each) cannot express; train with categorical_features=None to export it");
  }
}

void emit_gbdt(Graph& g, const ArtifactReader& in, const std::string& x) {
  if (in.has("gbdt.category_set")) refuse_category_splits(in);
  const Json& fitted = in.header().at("fitted");
  const bool classifier = fitted.at("task") == "classification";
  const std::int64_t k = fitted.at("n_trees_per_iteration_").get<std::int64_t>();
  const std::int64_t classes = classifier ? fitted.at("n_classes").get<std::int64_t>() : 1;
  const auto values = in.doubles("gbdt.values");
  const std::vector<double> baseline = in.doubles("gbdt.baseline");
  LeafWeights w;
  const std::string post = !classifier ? "NONE" : (k == 1 ? "LOGISTIC" : "SOFTMAX");
  std::vector<Attribute> a =
      ensemble_nodes(in, "gbdt", post, [&](std::int64_t t, std::int64_t id, std::int64_t at) {
        w.add(t, id, t % k, values[static_cast<std::size_t>(at)]);
      });
  a.push_back(Attribute::of("base_values", std::vector<float>(baseline.begin(), baseline.end())));
  if (!classifier) a.push_back(Attribute::of("aggregate_function", std::string("SUM")));
  emit_ensemble(g, in, x, std::move(a), w, classifier, classes);
}

// x [N, d] float -> x · coefᵀ + intercept in float64: [N, rows].
std::string affine(Graph& g, const ArtifactReader& in, const std::string& x, std::int64_t d) {
  const std::vector<double> coef = in.doubles("coef_");
  const std::vector<double> intercept = in.doubles("intercept_");
  const auto rows = static_cast<std::int64_t>(coef.size()) / d;
  const std::string product =
      g.node("MatMul", {g.cast(x, onnx::TensorProto::DOUBLE),
                        g.constant("coef", transposed(coef, rows, d), {d, rows})});
  return g.node("Add", {product, g.constant("intercept", intercept, {1, rows})});
}

void emit_logistic(Graph& g, const ArtifactReader& in, const std::string& x, std::int64_t d) {
  const std::string z = affine(g, in, x, d);
  const auto k = static_cast<std::int64_t>(in.header().at("classes").size());
  std::string proba;
  if (k == 2) {
    const std::string p1 = g.node("Sigmoid", {z});
    const std::string p0 = g.node("Sub", {g.constant("one", std::vector<double>{1.0}, {1, 1}), p1});
    proba = g.concat({p0, p1});
  } else {
    proba = g.node("Softmax", {z}, {Attribute::of("axis", std::int64_t{1})});
  }
  emit_classifier_outputs(g, in, proba, onnx::TensorProto::DOUBLE, k);
}

void emit_pca(Graph& g, const ArtifactReader& in, const std::string& x, std::int64_t d) {
  const std::vector<double> variance = in.doubles("explained_variance_");
  const auto k = static_cast<std::int64_t>(variance.size());
  std::vector<double> scale;  // none without whitening
  if (in.header().at("fitted").at("params").at("whiten").get<bool>())
    for (const double v : variance)  // as Pca::transform
      scale.push_back(1.0 / std::max(std::sqrt(v), std::numeric_limits<double>::epsilon()));
  g.output(project(g, g.cast(x, onnx::TensorProto::DOUBLE), in.doubles("mean_"),
                   in.doubles("components_"), scale, d, k),
           "transformed", onnx::TensorProto::DOUBLE, k);
}

// k-means: squared distances ‖x‖² - 2 x·cᵀ + ‖c‖² by MatMul (clipped at 0), "transformed" the
// distances [N, k] and "label" the nearest centre (first on ties, as CentroidModel::predict).
void emit_kmeans(Graph& g, const ArtifactReader& in, const std::string& x, std::int64_t d) {
  const std::vector<double> centres = in.doubles("cluster_centers_");
  const auto k = static_cast<std::int64_t>(centres.size()) / d;
  std::vector<double> c_norms(static_cast<std::size_t>(k), 0.0);
  for (std::int64_t c = 0; c < k; ++c)
    for (std::int64_t j = 0; j < d; ++j) c_norms[c] += centres[c * d + j] * centres[c * d + j];
  const std::string xd = g.cast(x, onnx::TensorProto::DOUBLE);
  const std::string x_norms =
      g.node("MatMul",
             {g.node("Mul", {xd, xd}),
              g.constant("ones", std::vector<double>(static_cast<std::size_t>(d), 1.0), {d, 1})});
  const std::string dots =
      g.node("MatMul", {xd, g.constant("centres", transposed(centres, k, d), {d, k})});
  const std::string d2 = g.node(
      "Add",
      {g.node("Add",
              {x_norms,
               g.node("Mul", {dots, g.constant("minus_two", std::vector<double>{-2.0}, {1, 1})})}),
       g.constant("centre_norms", c_norms, {1, k})});
  const std::string clipped =
      g.node("Max", {d2, g.constant("zero", std::vector<double>{0.0}, {1, 1})});
  const std::string index =
      g.node("ArgMin", {clipped},
             {Attribute::of("axis", std::int64_t{1}), Attribute::of("keepdims", std::int64_t{0}),
              Attribute::of("select_last_index", std::int64_t{0})});
  g.output(index, "label", onnx::TensorProto::INT64, 0);
  g.output(g.node("Sqrt", {clipped}), "transformed", onnx::TensorProto::DOUBLE, k);
}

void emit_dummy(Graph& g, const ArtifactReader& in, const std::string& x) {
  const Json& fitted = in.header().at("fitted");
  if (fitted.at("task") == "regression") {
    g.output(repeat_row(g, x, in.doubles("constant_")), "variable", onnx::TensorProto::DOUBLE, 1);
    return;
  }
  const std::string strategy = fitted.at("params").at("strategy").get<std::string>();
  std::vector<double> prior = in.doubles("class_prior_");
  const auto k = static_cast<std::int64_t>(prior.size());
  if (strategy == "most_frequent") {
    const auto top = std::max_element(prior.begin(), prior.end()) - prior.begin();
    std::fill(prior.begin(), prior.end(), 0.0);
    prior[static_cast<std::size_t>(top)] = 1.0;
  } else if (strategy != "prior") {
    refuse(in, "the dummy classifier's strategy '" + strategy +
                   "' draws random labels, which an ONNX graph cannot reproduce");
  }
  emit_classifier_outputs(g, in, repeat_row(g, x, prior), onnx::TensorProto::DOUBLE, k);
}

}  // namespace

void emit_estimator(Graph& g, const ArtifactReader& in, const std::string& features,
                    std::int64_t width) {
  const std::string kind = in.header().at("model").at("kind").get<std::string>();
  if (in.has("forest.offsets")) {
    emit_forest(g, in, features);
  } else if (in.has("gbdt.offsets")) {
    emit_gbdt(g, in, features);
  } else if (kind == "linear" || kind == "ridge") {
    g.output(affine(g, in, features, width), "variable", onnx::TensorProto::DOUBLE, 1);
  } else if (kind == "logistic") {
    emit_logistic(g, in, features, width);
  } else if (kind == "pca") {
    emit_pca(g, in, features, width);
  } else if (kind == "kmeans" || kind == "minibatch-kmeans") {
    emit_kmeans(g, in, features, width);
  } else if (kind == "dummy") {
    emit_dummy(g, in, features);
  } else {
    refuse(in, "no ONNX exporter for the model '" + kind + "'");
  }
}

}  // namespace tabula::onnx_export
