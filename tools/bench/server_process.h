// A server binary (coop-publisher, coop-stream) as a child process of a benchmark: on a free
// loopback port, its stdout and stderr in a log file, stopped with SIGTERM (its graceful
// shutdown) when the phase is over.
#ifndef COOP_TOOLS_BENCH_SERVER_PROCESS_H_
#define COOP_TOOLS_BENCH_SERVER_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace coop::bench {

// "exited with status N", "was killed by signal N" or "ended", for a waitpid() status.
std::string DescribeExit(int wait_status);
// The last 2,000 bytes of the file at `path` (a child's log), for error messages.
std::string LogTail(const std::string& path);

struct ServerProcessOptions {
  std::string name;                // In messages, e.g. "coop-stream".
  std::string binary;              // Path of the server.
  std::vector<std::string> flags;  // Its command line after the binary, without --listen.
  std::string log_file;            // The child's stdout and stderr.
};

// Not thread-safe; one thread starts, watches and stops the child.
class ServerProcess {
 public:
  // Spawns the server with --listen=127.0.0.1:<a port that was free a moment ago> added. Does
  // not wait for it to serve. INTERNAL when the binary cannot be started.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(ServerProcessOptions options);
  // Kills (SIGKILL) and reaps a child that Stop() did not end.
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  pid_t pid() const { return pid_; }
  // "127.0.0.1:<port>".
  const std::string& address() const { return address_; }

  // Waits until a gRPC channel to the server connects. UNAVAILABLE with the end of its log when
  // the child exits first, DEADLINE_EXCEEDED after `timeout`.
  absl::Status WaitUntilServing(absl::Duration timeout);

  // OK while the child runs; otherwise UNAVAILABLE with its exit status and the end of its log.
  absl::Status CheckRunning();

  // Sends SIGTERM and waits up to `timeout` for the child to exit. OK when it exited with
  // status 0; INTERNAL with the exit status and the end of its log otherwise; DEADLINE_EXCEEDED
  // when it did not exit in time (it is then killed).
  absl::Status Stop(absl::Duration timeout);

 private:
  ServerProcess(pid_t pid, std::string name, std::string address, std::string log_file)
      : pid_(pid),
        name_(std::move(name)),
        address_(std::move(address)),
        log_file_(std::move(log_file)) {}
  // Describes how the child ended, with the end of its log.
  std::string Ending(int wait_status) const;

  pid_t pid_;  // 0 once reaped.
  const std::string name_;
  const std::string address_;
  const std::string log_file_;
};

}  // namespace coop::bench

#endif  // COOP_TOOLS_BENCH_SERVER_PROCESS_H_
