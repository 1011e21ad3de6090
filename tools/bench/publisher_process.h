// coop-publisher as a child process of the benchmark: one per phase, on a free loopback port,
// stopped with SIGTERM (its graceful shutdown) when the phase is over.
#ifndef COOP_TOOLS_BENCH_PUBLISHER_PROCESS_H_
#define COOP_TOOLS_BENCH_PUBLISHER_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/bench/server_process.h"

namespace coop::bench {

struct PublisherProcessOptions {
  std::string binary;  // Path of coop-publisher.
  std::string bootstrap_servers;
  std::string events_topic;
  std::string policy_file;
  std::string instance_id;
  std::string log_file;                  // The child's stdout and stderr.
  std::vector<std::string> extra_flags;  // Appended to the command line as given.
};

// Whether `binary` defines the command-line flag `name` (from its --helpfull). Lets the bench
// drive publisher builds from before and after a flag was added. INTERNAL when it cannot run.
absl::StatusOr<bool> BinaryHasFlag(const std::string& binary, const std::string& name);

// coop-publisher is a ServerProcess; the name stays for the publisher bench's code.
using PublisherProcess = ServerProcess;

// Spawns coop-publisher (plain text, on 127.0.0.1 and a port that was free a moment ago). Does
// not wait for it to serve. INTERNAL when the binary cannot be started.
absl::StatusOr<std::unique_ptr<PublisherProcess>> StartPublisher(
    const PublisherProcessOptions& options);

}  // namespace coop::bench

#endif  // COOP_TOOLS_BENCH_PUBLISHER_PROCESS_H_
