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

// Not thread-safe; one thread starts, watches and stops the child.
class PublisherProcess {
 public:
  // Spawns the server (plain text, on 127.0.0.1 and a port that was free a moment ago). Does
  // not wait for it to serve. INTERNAL when the binary cannot be started.
  static absl::StatusOr<std::unique_ptr<PublisherProcess>> Start(
      const PublisherProcessOptions& options);
  // Kills (SIGKILL) and reaps a child that Stop() did not end.
  ~PublisherProcess();
  PublisherProcess(const PublisherProcess&) = delete;
  PublisherProcess& operator=(const PublisherProcess&) = delete;

  pid_t pid() const { return pid_; }
  // "127.0.0.1:<port>".
  const std::string& address() const { return address_; }

  // OK while the child runs; otherwise UNAVAILABLE with its exit status and the end of its log.
  absl::Status CheckRunning();

  // Sends SIGTERM and waits up to `timeout` for the child to exit. OK when it exited with
  // status 0; INTERNAL with the exit status and the end of its log otherwise; DEADLINE_EXCEEDED
  // when it did not exit in time (it is then killed).
  absl::Status Stop(absl::Duration timeout);

 private:
  PublisherProcess(pid_t pid, std::string address, std::string log_file)
      : pid_(pid), address_(std::move(address)), log_file_(std::move(log_file)) {}
  // Describes how the child ended, with the end of its log.
  std::string Ending(int wait_status) const;

  pid_t pid_;  // 0 once reaped.
  const std::string address_;
  const std::string log_file_;
};

}  // namespace coop::bench

#endif  // COOP_TOOLS_BENCH_PUBLISHER_PROCESS_H_
