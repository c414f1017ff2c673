// `tabula tune --spec experiment.toml`: the experiment spec as TuneOptions.
#include <filesystem>
#include <set>

#include "io/sql/sql_source.hpp"
#include "tabula/core/error.hpp"
#include "tabula/io/toml.hpp"
#include "tabula/models/task.hpp"
#include "tabula/pipeline/pipeline.hpp"
#include "tabula/selection/tuning.hpp"

namespace tabula {
namespace {

[[noreturn]] void bad_key(const std::string& file, const std::string& key, const std::string& why) {
  throw InputError(file + ": " + key + ": " + why);
}

void check_keys(const std::string& file, const std::string& table, const nlohmann::json& j,
                const std::set<std::string>& known) {
  if (!j.is_object()) bad_key(file, table, "expected a table");
  for (const auto& [k, v] : j.items())
    if (!known.count(k)) {
      std::string list;
      for (const std::string& n : known) list += (list.empty() ? "" : ", ") + n;
      bad_key(file, (table.empty() ? "" : table + ".") + k, "unknown key (known: " + list + ")");
    }
}

/// A scalar as the text a --param value would hold.
std::string scalar_text(const std::string& file, const std::string& key, const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return v.dump();
  bad_key(file, key, "expected a string, number or boolean");
}

template <typename T>
T get(const std::string& file, const std::string& key, const nlohmann::json& v) {
  try {
    return v.get<T>();
  } catch (const nlohmann::json::exception&) {
    bad_key(file, key, "wrong type");
  }
}

/// The [space] and [fixed] tables.
void read_space(const std::string& path, const nlohmann::json& doc, TuneOptions& o) {
  if (doc.contains("space")) {
    if (!doc["space"].is_object()) bad_key(path, "space", "expected a table");
    for (const auto& [k, v] : doc["space"].items()) {
      if (v.is_array()) {
        if (v.empty()) bad_key(path, "space." + k, "empty list");
        std::string list;
        for (const auto& e : v) {
          if (!list.empty()) list += ',';
          list += scalar_text(path, "space." + k, e);
        }
        o.space.push_back(k + "=[" + list + "]");
      } else {
        o.space.push_back(k + "=" + scalar_text(path, "space." + k, v));
      }
    }
  }
  if (doc.contains("fixed")) {
    if (!doc["fixed"].is_object()) bad_key(path, "fixed", "expected a table");
    for (const auto& [k, v] : doc["fixed"].items()) o.fixed[k] = scalar_text(path, "fixed." + k, v);
  }
}

/// The [search] table.
void read_search(const std::string& path, const nlohmann::json& doc, TuneOptions& o) {
  if (doc.contains("search")) {
    const nlohmann::json& s = doc["search"];
    check_keys(path, "search", s, {"kind", "n_iter", "resource", "factor"});
    if (s.contains("kind")) {
      const std::string kind = get<std::string>(path, "search.kind", s["kind"]);
      if (kind == "grid")
        o.search = SearchKind::kGrid;
      else if (kind == "random")
        o.search = SearchKind::kRandom;
      else if (kind == "halving")
        o.search = SearchKind::kHalving;
      else
        bad_key(path, "search.kind", "expected grid, random or halving, got '" + kind + "'");
    }
    if (s.contains("n_iter")) o.n_iter = get<std::int64_t>(path, "search.n_iter", s["n_iter"]);
    if (s.contains("resource"))
      o.halving_resource = get<std::string>(path, "search.resource", s["resource"]);
    if (s.contains("factor")) o.factor = get<int>(path, "search.factor", s["factor"]);
  }
}

/// The [scheme] table.
void read_scheme(const std::string& path, const nlohmann::json& doc, TuneOptions& o) {
  if (doc.contains("scheme")) {
    const nlohmann::json& s = doc["scheme"];
    check_keys(path, "scheme", s,
               {"kind", "folds", "repeats", "shuffle", "gap", "group_column", "time_column"});
    if (s.contains("kind")) o.scheme = get<std::string>(path, "scheme.kind", s["kind"]);
    if (s.contains("folds")) o.folds = get<int>(path, "scheme.folds", s["folds"]);
    if (s.contains("repeats")) o.repeats = get<int>(path, "scheme.repeats", s["repeats"]);
    if (s.contains("shuffle")) o.shuffle = get<bool>(path, "scheme.shuffle", s["shuffle"]);
    if (s.contains("gap")) o.gap = get<std::int64_t>(path, "scheme.gap", s["gap"]);
    if (s.contains("group_column"))
      o.group_column = get<std::string>(path, "scheme.group_column", s["group_column"]);
    if (s.contains("time_column"))
      o.time_column = get<std::string>(path, "scheme.time_column", s["time_column"]);
  }
}

}  // namespace

TuneOptions read_experiment_spec(const std::string& path) {
  const nlohmann::json doc = io::read_toml(path);
  check_keys(path, "", doc, {"data",         "target",   "model",     "task",     "metric",
                             "metrics",      "seed",     "test_size", "out",      "jobs",
                             "drop_columns", "space",    "fixed",     "search",   "scheme",
                             "budget",       "pipeline", "delimiter", "decimal",  "na_values",
                             "categorical",  "numeric",  "id_column", "encoding", "mlflow"});
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  auto relative = [&](const std::string& p) {
    const std::filesystem::path fp(p);
    return fp.is_absolute() || dir.empty() || io::is_sql_url(p) ? p : (dir / fp).string();
  };
  TuneOptions o;
  if (doc.contains("data")) o.data_path = relative(get<std::string>(path, "data", doc["data"]));
  if (doc.contains("target")) o.target = get<std::string>(path, "target", doc["target"]);
  if (doc.contains("model")) o.model = get<std::string>(path, "model", doc["model"]);
  if (doc.contains("task")) o.task = parse_task(get<std::string>(path, "task", doc["task"]));
  if (doc.contains("metric")) o.metric = get<std::string>(path, "metric", doc["metric"]);
  if (doc.contains("metrics"))
    o.metrics = get<std::vector<std::string>>(path, "metrics", doc["metrics"]);
  if (doc.contains("seed")) o.seed = get<std::uint64_t>(path, "seed", doc["seed"]);
  if (doc.contains("test_size")) o.test_size = get<double>(path, "test_size", doc["test_size"]);
  if (doc.contains("out")) o.out_dir = relative(get<std::string>(path, "out", doc["out"]));
  if (doc.contains("drop_columns"))
    o.drop_columns = get<std::vector<std::string>>(path, "drop_columns", doc["drop_columns"]);
  if (doc.contains("id_column"))
    o.id_column = get<std::string>(path, "id_column", doc["id_column"]);
  if (doc.contains("jobs")) o.jobs = get<int>(path, "jobs", doc["jobs"]);
  if (doc.contains("delimiter"))
    o.csv.delimiter = io::parse_delimiter(get<std::string>(path, "delimiter", doc["delimiter"]));
  if (doc.contains("encoding"))
    o.csv.encoding = get<std::string>(path, "encoding", doc["encoding"]);
  if (doc.contains("decimal"))
    o.csv.decimal = io::parse_decimal(get<std::string>(path, "decimal", doc["decimal"]));
  for (auto [key, list] :
       {std::pair{"na_values", &o.csv.na_values}, std::pair{"categorical", &o.csv.categorical},
        std::pair{"numeric", &o.csv.numeric}})
    if (doc.contains(key)) *list = get<std::vector<std::string>>(path, key, doc[key]);
  read_space(path, doc, o);
  read_search(path, doc, o);
  read_scheme(path, doc, o);
  if (doc.contains("budget")) {
    check_keys(path, "budget", doc["budget"], {"seconds"});
    if (doc["budget"].contains("seconds"))
      o.time_budget = get<double>(path, "budget.seconds", doc["budget"]["seconds"]);
  }
  if (doc.contains("mlflow")) {
    const nlohmann::json& m = doc["mlflow"];
    check_keys(path, "mlflow", m, {"tracking_uri", "experiment"});
    if (m.contains("tracking_uri")) {
      const std::string uri = get<std::string>(path, "mlflow.tracking_uri", m["tracking_uri"]);
      o.mlflow_tracking_uri = uri.find("://") == std::string::npos ? relative(uri) : uri;
    }
    if (m.contains("experiment"))
      o.mlflow_experiment = get<std::string>(path, "mlflow.experiment", m["experiment"]);
  }
  if (doc.contains("pipeline")) {
    // Validated now (InputError naming the key), stored in its JSON form.
    o.pipeline = PipelineSpec::from_json(doc["pipeline"], path + ": pipeline").to_json();
  }
  return o;
}

}  // namespace tabula
