// The model repository: DIR/<model>/<version>/<artifact>.tabula plus an optional
// DIR/<model>/config.toml. Models are loaded in the background and swapped in atomically; a
// version that fails to load is logged, counted, and never replaces one that serves.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "serve/metrics.hpp"
#include "serve/model_config.hpp"
#include "serve/served_model.hpp"
#include "serve/traffic_split.hpp"
#include "tabula/backend/backend.hpp"

namespace tabula::serve {

/// One model as served at one moment: immutable once published.
struct ModelEntry {
  std::string name;
  std::map<std::string, std::shared_ptr<ServedModel>> versions;  // loaded, by version name
  std::vector<std::string> order;   // the loaded versions, oldest first (version_less)
  TrafficSplit split;               // over loaded versions
  std::string signature;            // of the files it was built from (for polling)
  std::vector<std::string> errors;  // why versions on disk are not served

  /// `version` when given (HttpError 404 when not loaded), else the traffic split's choice.
  std::shared_ptr<ServedModel> choose(const std::string& version,
                                      std::optional<std::string_view> sticky_key,
                                      std::uint64_t sequence) const;
};

class ModelRepository {
 public:
  /// `backend` and `metrics` must outlive the repository. Nothing is read until scan().
  ModelRepository(std::string root, BatchingConfig defaults, Backend& backend, Metrics& metrics,
                  DriftConfig drift_defaults = {});
  ~ModelRepository();
  ModelRepository(const ModelRepository&) = delete;
  ModelRepository& operator=(const ModelRepository&) = delete;

  /// Loads what changed on disk since the last scan: new and changed models, removed ones
  /// dropped. The first call makes ready() true.
  void scan();
  /// Scans every `seconds` on a background thread until destruction.
  void start_polling(double seconds);
  /// Reloads one model now (Triton's repository "load"); a model unloaded before is served
  /// again. HttpError 404 when DIR/<name> does not exist, 400 with the reasons when no version
  /// of it loads.
  void load(const std::string& name);
  /// Stops serving one model (Triton's repository "unload"): it is gone from find() at once and
  /// polling leaves it alone until load(). Requests that already hold one of its versions finish
  /// on it; each version is freed (its queue drained) when the last of them lets go. HttpError
  /// 404 when the model is neither served nor in the repository.
  void unload(const std::string& name);

  /// One row of Triton's repository index.
  struct IndexRow {
    std::string name, version, state, reason;  // state: READY or UNAVAILABLE
  };
  /// Every served version (READY), and models with none (UNAVAILABLE, with the reason: load
  /// errors, or "unloaded"); `ready_only`: the READY rows alone.
  std::vector<IndexRow> index(bool ready_only) const;

  std::shared_ptr<const ModelEntry> find(const std::string& name) const;
  std::vector<std::shared_ptr<const ModelEntry>> models() const;
  bool ready() const { return ready_.load(); }
  const std::string& root() const { return root_; }

 private:
  struct VersionFile {
    std::string version, path, signature;
  };
  /// Versions with an artifact, oldest first, and the model's signature.
  std::vector<VersionFile> list_versions(const std::string& name, std::string* signature) const;
  /// Builds and publishes the model's new entry; returns it (null when the model is gone).
  std::shared_ptr<const ModelEntry> reload(const std::string& name);
  bool was_unloaded(const std::string& name) const;
  /// DIR/<name> is a folder and `name` a plain folder name (no '/', not hidden).
  bool in_repository(const std::string& name) const;
  std::shared_ptr<ServedModel> load_version(const std::string& name, const VersionFile& file,
                                            const ModelConfig& config, const ModelEntry* previous,
                                            std::vector<std::string>& errors);

  const std::string root_;
  const BatchingConfig defaults_;
  Backend& backend_;
  Metrics& metrics_;
  const DriftConfig drift_defaults_;
  DriftWindows drift_windows_;  // outlive the versions' reloads

  mutable std::mutex mutex_;  // guards models_ and unloaded_
  std::map<std::string, std::shared_ptr<const ModelEntry>> models_;
  std::set<std::string> unloaded_;             // by unload(), until load()
  std::mutex reload_mutex_;                    // one reload at a time (poller and load requests)
  std::map<std::string, std::string> failed_;  // artifact signature -> why it failed
  std::atomic<bool> ready_{false};

  std::mutex poll_mutex_;
  std::condition_variable poll_wake_;
  bool stopping_ = false;
  std::thread poller_;
};

}  // namespace tabula::serve
