// The HTTP server: Open Inference Protocol v2 REST, MLflow /invocations, Triton's repository
// extension, /metrics, over the Boost.Beast transport of http_transport.hpp.
#pragma once

#include "serve/serve_options.hpp"
#include "tabula/backend/backend.hpp"

namespace tabula::serve {

/// Binds, starts loading the repository in the background, and serves until SIGTERM or SIGINT;
/// then stops accepting, finishes the requests in flight and returns. InputError for bad
/// options (repository not a directory, unreadable token file), Error when the port cannot
/// be bound.
void run_server(const ServeOptions& options, Backend& backend);

}  // namespace tabula::serve
