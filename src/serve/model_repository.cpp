// Scanning, loading and hot-swapping the models of the repository.
#include "serve/model_repository.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "serve/http_error.hpp"
#include "tabula/core/error.hpp"

namespace tabula::serve {
namespace fs = std::filesystem;
namespace {

std::string file_signature(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  const auto time = fs::last_write_time(path, ec);
  if (ec) return path.string() + "@missing";
  return path.string() + "@" + std::to_string(size) + "@" +
         std::to_string(time.time_since_epoch().count());
}

/// Hidden entries (".tmp-2", Kubernetes' "..data") are staging areas, never models or versions.
bool hidden(const fs::path& path) { return path.filename().string().starts_with('.'); }

/// model.tabula, else the first *.tabula by name.
std::optional<fs::path> find_artifact(const fs::path& dir) {
  if (fs::is_regular_file(dir / "model.tabula")) return dir / "model.tabula";
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".tabula") found.push_back(e.path());
  if (found.empty()) return std::nullopt;
  return *std::min_element(found.begin(), found.end());
}

}  // namespace

std::shared_ptr<ServedModel> ModelEntry::choose(const std::string& version,
                                                std::optional<std::string_view> sticky_key,
                                                std::uint64_t sequence) const {
  if (!version.empty()) {
    const auto it = versions.find(version);
    if (it == versions.end())
      throw HttpError(404, "model '" + name + "' has no loaded version '" + version + "'");
    return it->second;
  }
  if (split.empty()) throw HttpError(404, "model '" + name + "' has no loaded version");
  return versions.at(split.pick(sticky_key, sequence));
}

ModelRepository::ModelRepository(std::string root, BatchingConfig defaults, Backend& backend,
                                 Metrics& metrics, DriftConfig drift_defaults)
    : root_(std::move(root)),
      defaults_(defaults),
      backend_(backend),
      metrics_(metrics),
      drift_defaults_(drift_defaults),
      drift_windows_(metrics) {
  if (!fs::is_directory(root_))
    throw InputError("--model-repository: '" + root_ + "' is not a directory");
}

ModelRepository::~ModelRepository() {
  {
    std::lock_guard lock(poll_mutex_);
    stopping_ = true;
  }
  poll_wake_.notify_all();
  if (poller_.joinable()) poller_.join();
}

std::shared_ptr<const ModelEntry> ModelRepository::find(const std::string& name) const {
  std::lock_guard lock(mutex_);
  const auto it = models_.find(name);
  return it == models_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const ModelEntry>> ModelRepository::models() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<const ModelEntry>> out;
  for (const auto& [name, entry] : models_) out.push_back(entry);
  return out;
}

std::vector<ModelRepository::VersionFile> ModelRepository::list_versions(
    const std::string& name, std::string* signature) const {
  const fs::path dir = fs::path(root_) / name;
  std::vector<VersionFile> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_directory() || hidden(e.path())) continue;
    const auto artifact = find_artifact(e.path());
    if (!artifact) continue;
    out.push_back({e.path().filename().string(), artifact->string(), file_signature(*artifact)});
  }
  std::sort(out.begin(), out.end(), [](const VersionFile& a, const VersionFile& b) {
    return version_less(a.version, b.version);
  });
  std::string sig = file_signature(dir / "config.toml");
  for (const VersionFile& v : out) sig += "|" + v.signature;
  *signature = sig;
  return out;
}

std::shared_ptr<ServedModel> ModelRepository::load_version(const std::string& name,
                                                           const VersionFile& file,
                                                           const ModelConfig& config,
                                                           const ModelEntry* previous,
                                                           std::vector<std::string>& errors) {
  if (previous != nullptr) {
    const auto it = previous->versions.find(file.version);
    // Unchanged file: keep the running version (and its queue) as it is.
    if (it != previous->versions.end() &&
        previous->signature.find(file.signature) != std::string::npos)
      return it->second;
  }
  if (const auto failed = failed_.find(file.signature); failed != failed_.end()) {
    errors.push_back(failed->second);
    return nullptr;
  }
  try {
    LoadedModel model = load_model(file.path);
    spdlog::info("serve: loaded model '{}' version {} ({} {})", name, file.version,
                 model.estimator->name(), to_string(model.estimator->task()));
    auto drift = drift_windows_.attach(name, file.version, model.profile, config.drift);
    return std::make_shared<ServedModel>(name, file.version, std::move(model), config.batching,
                                         backend_, metrics_, std::move(drift));
  } catch (const std::exception& e) {
    const std::string why = "version " + file.version + ": " + e.what();
    spdlog::error("serve: model '{}' {} (not served)", name, why);
    metrics_.count_reload_failure(name);
    failed_[file.signature] = why;
    errors.push_back(why);
    return nullptr;
  }
}

std::shared_ptr<const ModelEntry> ModelRepository::reload(const std::string& name) {
  const std::shared_ptr<const ModelEntry> previous = find(name);
  if (!fs::is_directory(fs::path(root_) / name)) {
    std::lock_guard lock(mutex_);
    if (models_.erase(name) > 0) spdlog::info("serve: model '{}' removed", name);
    return nullptr;
  }
  auto entry = std::make_shared<ModelEntry>();
  entry->name = name;
  const std::vector<VersionFile> files = list_versions(name, &entry->signature);
  ModelConfig config;
  try {
    config = read_model_config((fs::path(root_) / name / "config.toml").string(), defaults_,
                               drift_defaults_);
  } catch (const std::exception& e) {
    // A broken config keeps the model as it was.
    if (failed_.emplace(entry->signature, e.what()).second) {
      spdlog::error("serve: model '{}': {} (previous state kept)", name, e.what());
      metrics_.count_reload_failure(name);
    }
    if (previous) return previous;
    entry->errors.push_back(e.what());
    std::lock_guard lock(mutex_);
    models_[name] = entry;
    return entry;
  }
  if (config.versions) {
    for (const std::string& wanted : *config.versions) {
      const auto file = std::find_if(files.begin(), files.end(),
                                     [&](const VersionFile& f) { return f.version == wanted; });
      if (file == files.end()) {
        entry->errors.push_back("version " + wanted + ": no *.tabula file");
        continue;
      }
      auto served = load_version(name, *file, config, previous.get(), entry->errors);
      // A changed file that fails to load leaves the running copy in place.
      if (!served && previous && previous->versions.count(wanted))
        served = previous->versions.at(wanted);
      if (served) entry->versions[wanted] = served;
    }
    // Nothing wanted loads: keep serving what served before.
    if (entry->versions.empty() && previous) entry->versions = previous->versions;
  } else {
    // Default policy: the newest version that loads; if none does, whatever served before.
    for (auto it = files.rbegin(); it != files.rend(); ++it) {
      auto served = load_version(name, *it, config, previous.get(), entry->errors);
      // A changed file that fails to load leaves the running copy in place.
      if (!served && previous && previous->versions.count(it->version))
        served = previous->versions.at(it->version);
      if (served) {
        entry->versions[it->version] = served;
        break;
      }
    }
    if (entry->versions.empty() && previous) entry->versions = previous->versions;
  }
  for (const auto& [version, served] : entry->versions) entry->order.push_back(version);
  std::sort(entry->order.begin(), entry->order.end(), version_less);

  if (!entry->order.empty()) {
    std::vector<std::string> versions;
    std::vector<double> weights;
    for (const auto& [version, weight] : config.traffic)
      if (entry->versions.count(version) && weight > 0) {
        versions.push_back(version);
        weights.push_back(weight);
      }
    if (versions.empty()) {
      versions = {entry->order.back()};
      weights = {1};
    }
    entry->split = TrafficSplit(versions, weights);
  }
  {
    std::lock_guard lock(mutex_);
    models_[name] = entry;
  }
  // Versions no longer referenced stop once their last in-flight request holds no pointer.
  return entry;
}

void ModelRepository::scan() {
  std::lock_guard reload_lock(reload_mutex_);
  std::set<std::string> on_disk;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root_, ec))
    if (e.is_directory() && !hidden(e.path())) on_disk.insert(e.path().filename().string());
  for (const std::string& name : on_disk) {
    if (was_unloaded(name)) continue;
    const auto current = find(name);
    std::string signature;
    list_versions(name, &signature);
    if (!current || current->signature != signature) reload(name);
  }
  for (const auto& entry : models())
    if (!on_disk.count(entry->name)) reload(entry->name);
  ready_ = true;
}

bool ModelRepository::was_unloaded(const std::string& name) const {
  std::lock_guard lock(mutex_);
  return unloaded_.count(name) > 0;
}

bool ModelRepository::in_repository(const std::string& name) const {
  return !name.empty() && name.find('/') == std::string::npos && !name.starts_with('.') &&
         fs::is_directory(fs::path(root_) / name);
}

void ModelRepository::load(const std::string& name) {
  if (!in_repository(name)) throw HttpError(404, "no model '" + name + "' in the repository");
  std::shared_ptr<const ModelEntry> entry;
  {
    std::lock_guard reload_lock(reload_mutex_);
    {
      std::lock_guard lock(mutex_);
      unloaded_.erase(name);
    }
    entry = reload(name);
  }
  if (!entry || entry->versions.empty()) {
    std::string why;
    if (entry)
      for (const std::string& e : entry->errors) why += (why.empty() ? "" : "; ") + e;
    throw HttpError(400, "model '" + name + "' could not be loaded: " + why);
  }
}

void ModelRepository::unload(const std::string& name) {
  // Under reload_mutex_, so that a scan or load in progress cannot publish the model again.
  std::lock_guard reload_lock(reload_mutex_);
  std::lock_guard lock(mutex_);
  if (models_.count(name) == 0 && !in_repository(name))
    throw HttpError(404, "no model '" + name + "' in the repository");
  // The entry's versions live on in the requests that hold them (shared_ptr).
  if (models_.erase(name) > 0) spdlog::info("serve: model '{}' unloaded", name);
  unloaded_.insert(name);
}

std::vector<ModelRepository::IndexRow> ModelRepository::index(bool ready_only) const {
  std::vector<IndexRow> rows;
  std::lock_guard lock(mutex_);
  std::set<std::string> names(unloaded_);
  for (const auto& [name, entry] : models_) names.insert(name);
  for (const std::string& name : names) {
    const auto it = models_.find(name);
    const ModelEntry* entry = it == models_.end() ? nullptr : it->second.get();
    if (entry != nullptr)
      for (const std::string& v : entry->order) rows.push_back({name, v, "READY", ""});
    if (ready_only || (entry != nullptr && !entry->order.empty())) continue;
    std::string why = entry == nullptr ? "unloaded" : "";
    if (entry != nullptr)
      for (const std::string& e : entry->errors) why += (why.empty() ? "" : "; ") + e;
    rows.push_back({name, "", "UNAVAILABLE", why});
  }
  return rows;
}

void ModelRepository::start_polling(double seconds) {
  if (seconds <= 0) return;
  poller_ = std::thread([this, seconds] {
    const auto period = std::chrono::duration<double>(seconds);
    std::unique_lock lock(poll_mutex_);
    while (!poll_wake_.wait_for(lock, period, [this] { return stopping_; })) {
      lock.unlock();
      try {
        scan();
      } catch (const std::exception& e) {
        spdlog::error("serve: repository scan failed: {}", e.what());
      }
      lock.lock();
    }
  });
}

}  // namespace tabula::serve
