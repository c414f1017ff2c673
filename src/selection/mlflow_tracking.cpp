#include "selection/mlflow_tracking.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <system_error>
#include <vector>

#include "io/atomic_file.hpp"
#include "tabula/core/error.hpp"
#include "tabula/export/mlflow.hpp"

namespace tabula::selection {
namespace {

namespace fs = std::filesystem;

// MLflow's RunStatus.FINISHED and SourceType.LOCAL, stored as integers in a run's meta.yaml.
constexpr int kRunFinished = 3;
constexpr int kSourceLocal = 4;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// YAML strings written as JSON strings: valid YAML double-quoted scalars.
std::string quoted(const std::string& s) { return nlohmann::json(s).dump(); }

/// The value of a top-level `key:` line of a meta.yaml as PyYAML writes it (plain, 'single' or
/// "double" quoted); nullopt when absent.
std::optional<std::string> yaml_value(const std::string& text, const std::string& key) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with(key + ":")) continue;
    std::string v = line.substr(key.size() + 1);
    v.erase(0, v.find_first_not_of(' '));
    while (!v.empty() && (v.back() == ' ' || v.back() == '\r')) v.pop_back();
    if (v.size() >= 2 && v.front() == '"') return nlohmann::json::parse(v).get<std::string>();
    if (v.size() >= 2 && v.front() == '\'') {
      std::string out;
      for (std::size_t i = 1; i + 1 < v.size(); ++i) {
        out += v[i];
        if (v[i] == '\'' && v[i + 1] == '\'') ++i;  // '' is one quote
      }
      return out;
    }
    return v;
  }
  return std::nullopt;
}

std::string random_run_id() {
  std::random_device entropy;
  return fmt::format("{:08x}{:08x}{:08x}{:08x}", entropy(), entropy(), entropy(), entropy());
}

/// An 18-digit decimal id, as MLflow's file store numbers new experiments.
std::string random_experiment_id() {
  std::random_device entropy;
  std::string id = std::to_string(1 + entropy() % 9);
  while (id.size() < 18) id += std::to_string(entropy() % 10);
  return id;
}

void write_plain(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  out.close();
  if (!out) throw Error("MLflow tracking: cannot write '" + path.string() + "'");
}

/// The local folder of a tracking URI: file:///abs/path or a plain path.
fs::path store_folder(const std::string& uri) {
  if (uri.starts_with("file://")) return fs::absolute(uri.substr(7));
  if (uri.find("://") != std::string::npos)
    throw InputError("--mlflow-tracking-uri '" + uri +
                     "': only a local file store is supported (a folder, or file:///path)");
  return fs::absolute(uri);
}

std::string file_uri(const fs::path& path) { return "file://" + path.lexically_normal().string(); }

struct Experiment {
  std::string id;
  fs::path artifacts;  // the experiment's artifact folder (runs' artifacts under it)
};

/// A new store gets MLflow's own first contents: the Default experiment "0" and .trash.
void create_experiment(const fs::path& store, const std::string& id, const std::string& name) {
  const fs::path dir = store / id;
  fs::create_directories(dir);
  const std::int64_t t = now_ms();
  // The folder exists before its meta.yaml: MLflow skips a folder without one as malformed.
  detail::write_file_atomically(
      (dir / "meta.yaml").string(),
      fmt::format("artifact_location: {}\ncreation_time: {}\nexperiment_id: {}\n"
                  "last_update_time: {}\nlifecycle_stage: active\nname: {}\n",
                  quoted(file_uri(dir)), t, quoted(id), t, quoted(name)));
}

/// The experiment called `name`, created when there is none. InputError when it is deleted.
Experiment find_or_create_experiment(const fs::path& store, const std::string& name) {
  if (!fs::exists(store)) {
    fs::create_directories(store / ".trash");
    create_experiment(store, "0", "Default");
  }
  for (const fs::path& parent : {store, store / ".trash"}) {
    if (!fs::is_directory(parent)) continue;
    for (const fs::directory_entry& e : fs::directory_iterator(parent)) {
      const fs::path meta = e.path() / "meta.yaml";
      if (!e.is_directory() || !fs::is_regular_file(meta)) continue;
      const std::string text = detail::read_whole_file(meta.string());
      if (yaml_value(text, "name") != name) continue;
      if (parent != store || yaml_value(text, "lifecycle_stage") == "deleted")
        throw InputError(fmt::format(
            "--mlflow-experiment '{}' is deleted in {}; restore it or choose another name", name,
            store.string()));
      const std::string location = yaml_value(text, "artifact_location").value_or("");
      if (!location.starts_with("file://"))
        throw InputError(
            fmt::format("MLflow experiment '{}' keeps its artifacts at '{}', not in a local folder",
                        name, location));
      return {e.path().filename().string(), fs::path(location.substr(7))};
    }
  }
  std::string id = random_experiment_id();
  while (fs::exists(store / id)) id = random_experiment_id();
  create_experiment(store, id, name);
  return {id, store / id};
}

/// One run's contents before it is written.
struct RunRecord {
  std::string id = random_run_id();
  std::string name;
  std::map<std::string, std::string> params, tags;
  /// name -> (value, step) entries, in order.
  std::map<std::string, std::vector<std::pair<double, int>>> metrics;
  std::vector<std::pair<std::string, std::string>> artifact_files;  // (source path, name)
  std::string mlflow_model_of;  // a model file exported as artifacts/model (MLflow model)
};

std::string metric_lines(const std::vector<std::pair<double, int>>& entries, std::int64_t t) {
  std::string out;
  for (const auto& [value, step] : entries) out += fmt::format("{} {} {}\n", t, value, step);
  return out;
}

/// Writes the run folder, its meta.yaml last (atomically): until then MLflow ignores it.
void write_run(const fs::path& store, const Experiment& experiment, const RunRecord& run,
               std::int64_t started_ms) {
  const fs::path dir = store / experiment.id / run.id;
  const fs::path artifacts = experiment.artifacts / run.id / "artifacts";
  for (const char* sub : {"params", "metrics", "tags"}) fs::create_directories(dir / sub);
  fs::create_directories(artifacts);
  const std::int64_t ended = now_ms();
  for (const auto& [k, v] : run.params) write_plain(dir / "params" / k, v);
  for (const auto& [k, v] : run.tags) write_plain(dir / "tags" / k, v);
  for (const auto& [k, entries] : run.metrics)
    write_plain(dir / "metrics" / k, metric_lines(entries, ended));
  for (const auto& [source, name] : run.artifact_files)
    detail::write_file_atomically((artifacts / name).string(), detail::read_whole_file(source));
  if (!run.mlflow_model_of.empty())
    export_mlflow(run.mlflow_model_of, (artifacts / "model").string());
  const char* user = std::getenv("USER");
  detail::write_file_atomically(
      (dir / "meta.yaml").string(),
      fmt::format("artifact_uri: {}\ndeleted_time: null\nend_time: {}\nentry_point_name: ''\n"
                  "experiment_id: {}\nlifecycle_stage: active\nrun_id: {}\nrun_name: {}\n"
                  "run_uuid: {}\nsource_name: ''\nsource_type: {}\nsource_version: ''\n"
                  "start_time: {}\nstatus: {}\ntags: []\nuser_id: {}\n",
                  quoted(file_uri(artifacts)), ended, quoted(experiment.id), quoted(run.id),
                  quoted(run.name), quoted(run.id), kSourceLocal, started_ms, kRunFinished,
                  quoted(user ? user : "unknown")));
}

void common_tags(RunRecord& run) {
  const char* user = std::getenv("USER");
  run.tags["mlflow.runName"] = run.name;
  run.tags["mlflow.user"] = user ? user : "unknown";
  run.tags["mlflow.source.name"] = "tabula tune";
  run.tags["mlflow.source.type"] = "LOCAL";
}

RunRecord trial_run(const TuneOptions& options, const TuneResult& result, const TrialResult& t,
                    const std::string& parent) {
  RunRecord run;
  run.name = t.round > 0 ? fmt::format("trial-{}-round-{}", t.trial, t.round)
                         : fmt::format("trial-{}", t.trial);
  common_tags(run);
  run.tags["mlflow.parentRunId"] = parent;
  run.tags["tabula.trial"] = std::to_string(t.trial);
  run.tags["tabula.path"] = t.path;
  for (const auto& [k, v] : options.fixed) run.params[k] = v;
  for (const auto& [k, v] : t.params) run.params[k] = v;
  if (t.resource > 0) run.params["resource"] = std::to_string(t.resource);
  for (std::size_t m = 0; m < result.metric_names.size() && m < t.scores.size(); ++m) {
    const std::string& name = result.metric_names[m];
    for (std::size_t f = 0; f < t.scores[m].size(); ++f)
      run.metrics[name].push_back({t.scores[m][f], static_cast<int>(f)});
    run.metrics["mean_" + name].push_back({t.mean(m), 0});
    run.metrics["std_" + name].push_back({t.stdev(m), 0});
  }
  run.metrics["mean_fit_time"].push_back({t.fit_seconds, 0});
  return run;
}

RunRecord parent_run(const TuneOptions& options, const TuneResult& result,
                     const nlohmann::json& info) {
  RunRecord run;
  run.name = "tune-" + options.model;
  common_tags(run);
  run.tags["tabula.model"] = options.model;
  run.tags["tabula.search"] = info.value("search", "");
  run.tags["tabula.metric"] = result.metric_names.front();
  run.params["model"] = options.model;
  for (const auto& [k, v] : options.fixed) run.params[k] = v;
  if (!result.leaderboard.empty()) {
    const TrialResult& best = result.leaderboard.front();
    for (const auto& [k, v] : best.params) run.params[k] = v;
    run.tags["tabula.best_trial"] = std::to_string(best.trial);
    for (std::size_t m = 0; m < result.metric_names.size(); ++m) {
      run.metrics["mean_" + result.metric_names[m]].push_back({best.mean(m), 0});
      run.metrics["std_" + result.metric_names[m]].push_back({best.stdev(m), 0});
    }
  }
  if (result.test_metrics.is_object())
    for (const auto& [k, v] : result.test_metrics.items())
      if (v.is_number()) run.metrics["test_" + k].push_back({v.get<double>(), 0});
  const fs::path out(options.out_dir);
  for (const char* file : {"leaderboard.csv", "leaderboard.json", "report.html"})
    if (fs::exists(out / file)) run.artifact_files.push_back({(out / file).string(), file});
  if (!result.model_path.empty()) {
    run.artifact_files.push_back({result.model_path, "model.tabula"});
    run.mlflow_model_of = result.model_path;
  }
  return run;
}

}  // namespace

void check_mlflow_tracking_uri(const std::string& uri) { store_folder(uri); }

void log_search_to_mlflow(const TuneOptions& options, const TuneResult& result,
                          const nlohmann::json& info, std::int64_t started_ms) {
  const fs::path store = store_folder(options.mlflow_tracking_uri);
  try {
    const Experiment experiment = find_or_create_experiment(store, options.mlflow_experiment);
    RunRecord parent = parent_run(options, result, info);
    // Children first: the parent, listed last, appears once its trials are all there.
    for (const auto* trials : {&result.leaderboard, &result.earlier_rounds})
      for (const TrialResult& t : *trials)
        write_run(store, experiment, trial_run(options, result, t, parent.id), started_ms);
    write_run(store, experiment, parent, started_ms);
  } catch (const fs::filesystem_error& e) {
    throw Error(fmt::format("MLflow tracking: cannot write under '{}': {}", store.string(),
                            e.code().message()));
  }
}

}  // namespace tabula::selection
