// Hosts roles (role.h) in this process: one gRPC server per distinct listen address, carrying
// the services of the roles placed there, with reflection and the health service; one metrics
// endpoint per distinct metrics address. Waits for SIGTERM or SIGINT, then shuts down
// gracefully.
#ifndef COOP_COMMON_SERVER_SERVER_RUNNER_H_
#define COOP_COMMON_SERVER_SERVER_RUNNER_H_

#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/server/role.h"
#include "grpcpp/security/server_credentials.h"

namespace coop::server {

// Where a role is served.
struct Placement {
  Role* role = nullptr;
  // gRPC host:port (port 0 picks one; roles with the same text share that server).
  std::string listen;
  // host:port of its /metrics; empty: none.
  std::string metrics_listen;
};

struct RunOptions {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  // Synchronous calls (views queries, replays) each gRPC server serves at once, at most: each
  // holds a thread while it runs.
  int max_threads = 64;
  // How long shutdown waits for calls in flight.
  absl::Duration shutdown_grace = absl::Seconds(30);
};

// Starts serving every placement, logs "<role> serving listen=<address> port=<port> <Describe()>"
// for each, then waits for one of `signals` (which the caller blocked in every thread before
// starting any). Then: the health service says NOT_SERVING, each role's BeginShutdown, the gRPC
// servers stop taking calls and answer those in flight (within shutdown_grace), the metrics
// endpoints close. The roles are the caller's to destroy afterwards. UNAVAILABLE naming the
// address when a server or endpoint cannot listen (nothing is left running then).
absl::Status RunServers(const std::vector<Placement>& placements, const RunOptions& options,
                        const sigset_t& signals);

}  // namespace coop::server

#endif  // COOP_COMMON_SERVER_SERVER_RUNNER_H_
