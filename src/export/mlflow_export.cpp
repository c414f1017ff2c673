#include "tabula/export/mlflow.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <system_error>

#include "io/atomic_file.hpp"
#include "selection/utc_now.hpp"
#include "tabula/artifact/model_file.hpp"
#include "tabula/core/error.hpp"
#include "tabula/version.hpp"

namespace tabula {
namespace {

namespace fs = std::filesystem;

// The input columns for people and tools reading MLmodel: name and type, as JSON. (Not an MLflow
// signature: its "double" refuses integer columns, so a CSV's whole-number column would be
// refused; tabula's own pipeline types and checks the columns.)
std::string input_columns(const ModelSchema& schema) {
  nlohmann::json columns = nlohmann::json::array();
  for (const FeatureSpec& f : schema.features)
    columns.push_back({{"name", f.name}, {"type", std::string(to_string(f.type))}});
  return columns.dump();
}

std::string random_hex() {
  std::random_device entropy;
  std::ostringstream out;
  out << std::hex << entropy() << entropy() << entropy() << entropy();
  return out.str();
}

// MLmodel: YAML whose strings are written as JSON strings (valid YAML flow scalars).
std::string mlmodel(const LoadedModel& model) {
  const auto quote = [](const std::string& s) { return nlohmann::json(s).dump(); };
  std::string time = utc_now();  // 2026-11-30T04:20:00Z -> MLflow's "2026-11-30 04:20:00.000000"
  time[10] = ' ';
  time.pop_back();
  std::ostringstream y;
  y << "flavors:\n"
    << "  python_function:\n"
    << "    data: model.tbl\n"
    << "    loader_module: tabula.mlflow\n"
    << "  tabula:\n"
    << "    data: model.tbl\n"
    << "    model: " << quote(model.estimator->name()) << "\n"
    << "    task: " << quote(std::string(to_string(model.estimator->task()))) << "\n"
    << "    tabula_version: " << quote(kVersion) << "\n"
    << "    input_columns: " << quote(input_columns(model.schema)) << "\n"
    << "model_uuid: " << quote(random_hex()) << "\n"
    << "utc_time_created: " << quote(time + ".000000") << "\n";
  return y.str();
}

}  // namespace

void export_mlflow(const std::string& model_path, const std::string& out_dir) {
  const LoadedModel model = load_model(model_path);
  std::error_code error;
  if (fs::exists(out_dir, error))
    throw InputError("MLflow export: '" + out_dir +
                     "' exists already; MLflow model directories are written whole, to a new "
                     "path");
  // Built under a temporary name beside its final path (PendingFiles' naming), then renamed
  // into place: whole or absent.
  detail::PendingFiles pending;
  const fs::path staging = pending.reserve(out_dir);
  try {
    fs::create_directories(staging);
    detail::write_file_atomically((staging / "model.tbl").string(),
                                  detail::read_whole_file(model_path));
    detail::write_file_atomically((staging / "MLmodel").string(), mlmodel(model));
    detail::write_file_atomically(
        (staging / "requirements.txt").string(),
        "# tabula's Python package: pip install . in a tabula checkout (docs/python.md)\n"
        "tabula==" +
            std::string(kVersion) + "\n");
    pending.commit();
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(staging, error);
    throw Error("MLflow export: cannot write '" + out_dir + "': " + e.code().message());
  } catch (...) {
    fs::remove_all(staging, error);
    throw;
  }
}

}  // namespace tabula
