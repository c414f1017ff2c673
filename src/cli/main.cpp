// The tabula program: global options, the subcommands, and one clear message with a non-zero
// exit code for every user error.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>

#include "cli/command.hpp"
#include "cli/distributed_flag.hpp"
#include "tabula/core/device.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"
#include "tabula/version.hpp"

namespace {

constexpr int kExitRuntimeError = 1;  // bad data, unusable device, failed computation
constexpr int kExitUsageError = 2;    // bad command line

struct GlobalOptions {
  std::string device = "auto";
  int threads = 0;
  std::string log_level = "info";
};

void apply(const GlobalOptions& options) {
  const auto level = spdlog::level::from_str(options.log_level);
  if (level == spdlog::level::off && options.log_level != "off")
    throw tabula::InputError("--log-level: unknown level '" + options.log_level +
                             "' (trace, debug, info, warn, error, critical, off)");
  spdlog::set_level(level);
  tabula::set_thread_count(options.threads);
  tabula::set_default_device(tabula::Device::parse(options.device));
}

}  // namespace

int main(int argc, char** argv) {
  auto logger = spdlog::stderr_color_mt("tabula");
  logger->set_pattern("[%^%l%$] %v");
  spdlog::set_default_logger(logger);

  CLI::App app{"tabula: train, tune and serve tabular models"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("tabula ") + tabula::kVersion);
  GlobalOptions options;
  app.add_option("--device", options.device, "Device: auto, cpu, cuda or cuda:N")
      ->capture_default_str();
  app.add_option("--threads", options.threads, "CPU threads (0: all hardware threads)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--log-level", options.log_level,
                 "trace, debug, info, warn, error, critical or off")
      ->capture_default_str();

  tabula::cli::Commands commands;
  tabula::cli::add_all_commands(app, commands);
  for (CLI::App* sub : app.get_subcommands({})) sub->fallthrough();  // globals after the verb

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitUsageError;
  }

  try {
    tabula::cli::refuse_copies_under_launcher(app);
    apply(options);
    for (const tabula::cli::Command& command : commands)
      if (command.app->parsed()) return command.run();
  } catch (const tabula::Error& e) {
    spdlog::error("{}", e.what());
    return kExitRuntimeError;
  } catch (const std::exception& e) {
    spdlog::error("unexpected failure: {}", e.what());
    return kExitRuntimeError;
  }
  return 0;
}
