#include "distributed/table_agreement.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <span>

#include "tabula/distributed/communicator.hpp"

namespace tabula::distributed {
namespace {

const char* type_name(ColumnType type) { return type == ColumnType::kNumeric ? "numeric" : "text"; }

/// One line per column ("name: type"), the target and the task last: what must be equal.
std::vector<std::string> table_lines(const Dataset& data, const TaskChoice& choice) {
  std::vector<std::string> lines;
  for (const Column& c : data.columns) lines.push_back(c.name + ": " + type_name(c.type));
  if (data.target)
    lines.push_back("target " + data.target->name + ": " + type_name(data.target->type));
  lines.push_back(std::string("task: ") + std::string(to_string(choice.task)));
  return lines;
}

/// How `lines` differ from rank 0's `reference`, in a few words; empty when they are equal.
std::string difference(const std::vector<std::string>& lines,
                       const std::vector<std::string>& reference) {
  for (std::size_t i = 0; i < std::max(lines.size(), reference.size()); ++i) {
    const std::string mine = i < lines.size() ? lines[i] : "(nothing)";
    const std::string theirs = i < reference.size() ? reference[i] : "(nothing)";
    if (mine != theirs) return fmt::format("has '{}' where rank 0 has '{}'", mine, theirs);
  }
  return {};
}

}  // namespace

void check_same_table(const Dataset& data, const TaskChoice& choice, Communicator& comm) {
  const std::vector<std::string> lines = table_lines(data, choice);
  std::string reference_text = nlohmann::json(lines).dump();
  comm.broadcast(reference_text, 0);
  std::string error =
      difference(lines, nlohmann::json::parse(reference_text).get<std::vector<std::string>>());
  if (error.find("task: ") != std::string::npos)
    error += " (the shards' targets look different: choose the task with --task)";
  comm.check_all(error, "the shards' columns differ");
}

bool unite_class_labels(ModelSchema& schema, Communicator& comm) {
  const std::vector<std::string> all = comm.all_gather(nlohmann::json(schema.class_labels).dump());
  std::vector<std::string> united;
  for (const std::string& text : all)
    for (const std::string& label : nlohmann::json::parse(text).get<std::vector<std::string>>())
      united.push_back(label);
  auto number = [](const std::string& s) { return std::stod(s); };
  if (schema.numeric_labels) {
    // The first rank's spelling of a value wins; training re-spells labels from the file.
    std::stable_sort(united.begin(), united.end(), [&](const std::string& a, const std::string& b) {
      return number(a) < number(b);
    });
    united.erase(std::unique(united.begin(), united.end(),
                             [&](const std::string& a, const std::string& b) {
                               return number(a) == number(b);
                             }),
                 united.end());
  } else {
    std::sort(united.begin(), united.end());
    united.erase(std::unique(united.begin(), united.end()), united.end());
  }
  if (united == schema.class_labels) return false;
  schema.class_labels = std::move(united);
  return true;
}

std::int64_t total_over_ranks(std::int64_t count, Communicator& comm) {
  comm.all_reduce_sum(std::span<std::int64_t>(&count, 1));
  return count;
}

}  // namespace tabula::distributed
