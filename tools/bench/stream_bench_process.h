// The processes the stream benchmark starts: coop-stream as a child serving one topic, and kcat
// as the baseline reader of a whole topic.
#ifndef COOP_TOOLS_BENCH_STREAM_BENCH_PROCESS_H_
#define COOP_TOOLS_BENCH_STREAM_BENCH_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace coop::bench {

struct StreamProcessOptions {
  std::string binary;  // Path of coop-stream.
  std::string bootstrap_servers;
  std::string events_topic;
  std::string policy_file;
  // Calls without credentials act as this policy principal (plain text, local use).
  std::string anonymous_principal = "local-dev";
  std::string log_file;                  // The child's stdout and stderr.
  std::vector<std::string> extra_flags;  // Appended to the command line as given.
};

// coop-stream on a loopback port (plain text, metrics off). Not thread-safe: one thread starts,
// watches and stops the child.
class StreamProcess {
 public:
  // Spawns the server on 127.0.0.1 and a port that was free a moment ago. Does not wait for it
  // to serve (WaitUntilServing). INTERNAL when the binary cannot be started.
  static absl::StatusOr<std::unique_ptr<StreamProcess>> Start(const StreamProcessOptions& options);
  // Kills (SIGKILL) and reaps a child that Stop() did not end.
  ~StreamProcess();
  StreamProcess(const StreamProcess&) = delete;
  StreamProcess& operator=(const StreamProcess&) = delete;

  pid_t pid() const { return pid_; }
  // "127.0.0.1:<port>".
  const std::string& address() const { return address_; }

  // Waits until a gRPC channel to the server connects (it listens only once its log tail has
  // started). UNAVAILABLE with the end of its log when the child exits first, DEADLINE_EXCEEDED
  // after `timeout`.
  absl::Status WaitUntilServing(absl::Duration timeout);

  // OK while the child runs; otherwise UNAVAILABLE with its exit status and the end of its log.
  absl::Status CheckRunning();

  // Sends SIGTERM and waits up to `timeout` for the child to exit. OK when it exited with
  // status 0; INTERNAL with the exit status and the end of its log otherwise; DEADLINE_EXCEEDED
  // when it did not exit in time (it is then killed).
  absl::Status Stop(absl::Duration timeout);

 private:
  StreamProcess(pid_t pid, std::string address, std::string log_file)
      : pid_(pid), address_(std::move(address)), log_file_(std::move(log_file)) {}
  std::string Ending(int wait_status) const;

  pid_t pid_;  // 0 once reaped.
  const std::string address_;
  const std::string log_file_;
};

// Resident memory of a process, from /proc/<pid>/status.
struct ProcessMemory {
  int64_t rss_bytes = 0;  // VmRSS: now.
  int64_t hwm_bytes = 0;  // VmHWM: the peak since the process started.
};
// NOT_FOUND when the process is gone.
absl::StatusOr<ProcessMemory> ReadProcessMemory(pid_t pid);

// The pid in a pid file (deploy/kafka writes <data-dir>/node-1/kafka.pid); 0 for an empty path.
absl::StatusOr<pid_t> ReadPidFile(const std::string& path);

// What one kcat run measured.
struct KcatResult {
  int64_t records = 0;      // Lines kcat printed: one per record.
  double wall_seconds = 0;  // Spawn to exit.
  double cpu_seconds = 0;   // kcat's user + system time.
};

// Runs `kcat -C -b <bootstrap> -t <topic> -o beginning -e -q -f '%o\n'`: reads every partition
// of `topic` from the beginning to its end and exits, printing each record's offset, which this
// function counts and discards. kcat's stderr goes to `log_file`. INTERNAL when kcat cannot run
// or exits with a failure.
absl::StatusOr<KcatResult> RunKcat(const std::string& kcat, const std::string& bootstrap_servers,
                                   const std::string& topic, const std::string& log_file);

}  // namespace coop::bench

#endif  // COOP_TOOLS_BENCH_STREAM_BENCH_PROCESS_H_
