// A closed-loop gRPC load generator for benchmarks/bench_serve.py, gRPC's counterpart of wrk:
// `connections` TCP connections, each with one ModelInfer call in flight at a time (the next
// sent when the answer arrives), spread over `threads` completion-queue threads, for `duration`
// seconds. The request is a serialized inference.ModelInferRequest read from a file. Prints one
// line "TABULA_WRK_JSON {...}" with the keys benchmarks/wrk/post_body.lua prints.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "serve/grpc_service.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string target, request_file;
  int connections = 16, threads = 2;
  double duration_s = 10;
};

struct Tally {
  std::vector<std::int64_t> latencies_us;
  std::int64_t errors = 0;
};

/// One call in flight: what the completion queue hands back.
struct Call {
  int connection = 0;
  Clock::time_point sent;
  grpc::ClientContext context;
  inference::ModelInferResponse response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<inference::ModelInferResponse>> reader;
};

// Each connection gets a channel of its own (a local subchannel pool), as wrk opens one socket
// per connection.
std::shared_ptr<grpc::Channel> connect(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(-1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

void drive(const Options& o, const inference::ModelInferRequest& request, int count,
           Clock::time_point end, Tally& tally) {
  grpc::CompletionQueue queue;
  std::vector<std::unique_ptr<inference::GRPCInferenceService::Stub>> stubs;
  for (int i = 0; i < count; ++i)
    stubs.push_back(inference::GRPCInferenceService::NewStub(connect(o.target)));
  const auto send = [&](int connection) {
    auto* call = new Call;  // owned by the queue until it comes back below
    call->connection = connection;
    call->sent = Clock::now();
    call->reader = stubs[static_cast<std::size_t>(connection)]->AsyncModelInfer(&call->context,
                                                                                request, &queue);
    call->reader->Finish(&call->response, &call->status, call);
  };
  for (int i = 0; i < count; ++i) send(i);
  int in_flight = count;
  void* tag = nullptr;
  bool ok = false;
  while (in_flight > 0 && queue.Next(&tag, &ok)) {
    std::unique_ptr<Call> call(static_cast<Call*>(tag));
    const auto now = Clock::now();
    if (ok && call->status.ok())
      tally.latencies_us.push_back(
          std::chrono::duration_cast<std::chrono::microseconds>(now - call->sent).count());
    else
      ++tally.errors;
    if (now < end)
      send(call->connection);
    else
      --in_flight;
  }
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--target")
      o.target = value;
    else if (flag == "--request")
      o.request_file = value;
    else if (flag == "--connections")
      o.connections = std::stoi(value);
    else if (flag == "--threads")
      o.threads = std::stoi(value);
    else if (flag == "--duration")
      o.duration_s = std::stod(value);
    else
      throw std::invalid_argument("unknown option " + flag);
  }
  if (o.target.empty() || o.request_file.empty())
    throw std::invalid_argument(
        "usage: bench_grpc_load --target HOST:PORT --request FILE.pb [--connections 16] "
        "[--threads 2] [--duration 10]");
  o.threads = std::max(1, std::min(o.threads, o.connections));
  return o;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options o = parse(argc, argv);
  std::ifstream in(o.request_file, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  inference::ModelInferRequest request;
  if (!in || !request.ParseFromString(bytes.str()))
    throw std::runtime_error("cannot read a ModelInferRequest from " + o.request_file);

  std::vector<Tally> tallies(static_cast<std::size_t>(o.threads));
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  const auto end = start + std::chrono::microseconds(static_cast<std::int64_t>(o.duration_s * 1e6));
  for (int t = 0; t < o.threads; ++t) {
    const int count = o.connections / o.threads + (t < o.connections % o.threads ? 1 : 0);
    threads.emplace_back(drive, std::cref(o), std::cref(request), count, end,
                         std::ref(tallies[static_cast<std::size_t>(t)]));
  }
  for (auto& t : threads) t.join();
  const auto elapsed_us =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
  std::vector<std::int64_t> all;
  std::int64_t errors = 0;
  for (const Tally& t : tallies) {
    all.insert(all.end(), t.latencies_us.begin(), t.latencies_us.end());
    errors += t.errors;
  }
  std::sort(all.begin(), all.end());
  const auto pct = [&](double p) {
    if (all.empty()) return std::int64_t{0};
    return all[std::min(all.size() - 1, static_cast<std::size_t>(p / 100 * all.size()))];
  };
  std::printf(
      "TABULA_WRK_JSON {\"requests\":%zu,\"duration_us\":%lld,\"errors_connect\":0,"
      "\"errors_read\":0,\"errors_write\":0,\"errors_status\":%lld,\"errors_timeout\":0,"
      "\"latency_p50_us\":%lld,\"latency_p90_us\":%lld,\"latency_p99_us\":%lld}\n",
      all.size() + static_cast<std::size_t>(errors), static_cast<long long>(elapsed_us),
      static_cast<long long>(errors), static_cast<long long>(pct(50)),
      static_cast<long long>(pct(90)), static_cast<long long>(pct(99)));
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_grpc_load: " << e.what() << "\n";
  return 2;
}
