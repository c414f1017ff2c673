// Lookup, version choice, batching, deadline, metrics and statistics of one request.
#include "serve/inference_path.hpp"

#include <chrono>
#include <exception>

#include "serve/http_error.hpp"
#include "tabula/core/error.hpp"

namespace tabula::serve {

std::shared_ptr<const ModelEntry> InferencePath::entry(const std::string& name) const {
  auto entry = repository_.find(name);
  if (!entry) {
    if (!repository_.ready()) throw HttpError(503, "models are still loading");
    throw HttpError(404, "no model '" + name + "'");
  }
  return entry;
}

std::vector<StatisticsSnapshot> InferencePath::statistics(const std::string& model,
                                                          const std::string& version) const {
  std::vector<StatisticsSnapshot> out;
  const auto add = [&](const ModelEntry& e, const ServedModel& served) {
    out.push_back(served.statistics().snapshot(e.name, served.version()));
  };
  const auto entries = model.empty() ? repository_.models()
                                     : std::vector<std::shared_ptr<const ModelEntry>>{entry(model)};
  for (const auto& e : entries) {
    if (!version.empty()) {
      add(*e, *e->choose(version, std::nullopt, 0));
      continue;
    }
    for (const std::string& v : e->order) add(*e, *e->versions.at(v));
  }
  return out;
}

ScoredRows InferencePath::await(std::future<ScoredRows>& result, Clock::time_point deadline) const {
  if (result.wait_until(deadline) != std::future_status::ready)
    throw HttpError(504, "the request was not scored within " +
                             std::to_string(options_.request_timeout_ms) + " ms");
  ScoredRows rows = result.get();
  if (rows.status != 200) throw HttpError(rows.status, rows.error);
  return rows;
}

void InferencePath::infer(const Target& target, const Parse& parse, const Respond& respond) {
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::milliseconds(options_.request_timeout_ms);
  const auto elapsed = [&] { return Clock::now() - start; };
  std::string name, version;  // metric labels: only names of models that exist
  std::shared_ptr<ServedModel> served;
  int status = 200;
  std::exception_ptr failure;
  try {
    const auto found = entry(target.model);
    name = found->name;
    served = found->choose(target.version, target.sticky_key,
                           sequence_.fetch_add(1, std::memory_order_relaxed));
    version = served->version();
    const std::shared_ptr<const RequestTable> table = parse(*served);
    auto pending = served->submit(table, deadline);
    const ScoredRows rows = await(pending, deadline);
    respond(*served, rows);
    served->statistics().record_success(
        table->rows, static_cast<std::uint64_t>(std::chrono::nanoseconds(elapsed()).count()));
  } catch (const HttpError& e) {
    status = e.status();
    failure = std::current_exception();
  } catch (const InputError&) {
    status = 400;
    failure = std::current_exception();
  } catch (...) {
    status = 500;
    failure = std::current_exception();
  }
  metrics_.observe_request(name, version, status, std::chrono::duration<double>(elapsed()).count());
  if (!failure) return;
  if (served)
    served->statistics().record_fail(
        static_cast<std::uint64_t>(std::chrono::nanoseconds(elapsed()).count()));
  std::rethrow_exception(failure);
}

}  // namespace tabula::serve
