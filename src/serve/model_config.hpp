// DIR/<model>/config.toml: which versions to serve, their traffic weights, batching.
//
//   versions = [1, 2]          # served versions (default: the newest that loads)
//   [traffic]                  # A/B weights by version (default: all to the newest served)
//   1 = 90
//   2 = 10
//   [batching]                 # overrides the command line's defaults
//   max_batch_rows = 256
//   max_queue_delay_us = 500
//   max_queue_rows = 65536
//   [drift]                    # overrides the command line's drift defaults
//   window_rows = 10000        # rolling window (0: not watched)
//   threshold = 0.2            # PSI above which a column has drifted
//   min_rows = 100             # fewer rows: no verdict
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "serve/serve_options.hpp"

namespace tabula::serve {

struct ModelConfig {
  std::optional<std::vector<std::string>> versions;
  std::map<std::string, double> traffic;  // empty: no split
  BatchingConfig batching;
  DriftConfig drift;
};

/// Reads `path` (absent: the defaults). InputError naming the file and key for unknown keys,
/// wrong types, negative weights, or a traffic version that is not served.
ModelConfig read_model_config(const std::string& path, const BatchingConfig& defaults,
                              const DriftConfig& drift_defaults = {});
/// The same from TOML text, for tests.
ModelConfig parse_model_config(const std::string& text, const std::string& source,
                               const BatchingConfig& defaults,
                               const DriftConfig& drift_defaults = {});

/// Version order: numbers numerically, before other names, which sort by bytes.
bool version_less(const std::string& a, const std::string& b);

}  // namespace tabula::serve
