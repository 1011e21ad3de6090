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
#include "tools/bench/server_process.h"

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

// coop-stream is a ServerProcess; the name stays for the stream bench's code.
using StreamProcess = ServerProcess;

// Spawns coop-stream on 127.0.0.1 and a port that was free a moment ago (plain text, metrics
// off). Does not wait for it to serve (WaitUntilServing; it listens only once its log tail has
// started). INTERNAL when the binary cannot be started.
absl::StatusOr<std::unique_ptr<StreamProcess>> StartStreamProcess(
    const StreamProcessOptions& options);

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
