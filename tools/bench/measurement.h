// How a benchmark phase is measured: acknowledgement latencies per event, CPU time per process,
// and the figures one phase of one round yields.
#ifndef COOP_TOOLS_BENCH_MEASUREMENT_H_
#define COOP_TOOLS_BENCH_MEASUREMENT_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"

namespace coop::bench {

// Monotonic time in nanoseconds (steady clock); all send and acknowledgement times use it.
int64_t NowNanos();

// Sleeps until NowNanos() >= `deadline_ns` (returns at once if it has passed).
void SleepUntilNanos(int64_t deadline_ns);

// CPU time (user + system, all threads) this process has used so far.
double SelfCpuSeconds();

// CPU time (user + system, all threads) process `pid` has used so far, from /proc/<pid>/stat.
// NOT_FOUND when the process is gone.
absl::StatusOr<double> ProcessCpuSeconds(pid_t pid);

// CPU time used between Start() and Stop() by this process (the client, and for the raw phase
// the producer), the publisher child and the broker. A pid of 0 is not measured (-1 reported).
class CpuMeter {
 public:
  CpuMeter(pid_t server_pid, pid_t broker_pid) : server_pid_(server_pid), broker_pid_(broker_pid) {}
  void Start();
  void Stop();
  double client_seconds() const { return client_; }
  double server_seconds() const { return server_; }
  double broker_seconds() const { return broker_; }

 private:
  const pid_t server_pid_;
  const pid_t broker_pid_;
  double client_ = 0;
  double server_ = -1;
  double broker_ = -1;
};

// The send time and outcome of each of a phase's events. Each index is sent once and answered
// once (Acked or Failed), from any thread; Wait() returns when every event is answered.
class AckLog {
 public:
  explicit AckLog(int64_t events);

  // `sent_ns`: when the event was handed to the client library, or for paced phases when it
  // was due to be (so a late sender counts against latency, not for it).
  void Sent(int64_t index, int64_t sent_ns) { sent_ns_[index] = sent_ns; }
  void Acked(int64_t index);
  void Failed(int64_t index, absl::string_view error);

  void Wait() { remaining_.Wait(); }

  int64_t errors() const { return errors_.load(std::memory_order_relaxed); }
  std::string first_error() const;
  // Latencies of acknowledged events; call after Wait().
  std::vector<int64_t> AckedLatencies() const;

 private:
  std::vector<int64_t> sent_ns_;
  std::vector<int64_t> latency_ns_;  // -1: failed.
  absl::BlockingCounter remaining_;
  std::atomic<int64_t> errors_{0};
  mutable absl::Mutex mu_;
  std::string first_error_ ABSL_GUARDED_BY(mu_);
};

// What one phase of one round measured.
struct PhaseResult {
  std::string phase;   // "raw", "stream", "unary", "unary_half", "raw_half"
  int64_t events = 0;  // Acknowledged.
  int64_t errors = 0;
  std::string first_error;
  double target_rate = 0;   // Events/s for paced phases; 0: as fast as possible.
  double wall_seconds = 0;  // First send to last acknowledgement.
  double client_cpu_seconds = 0;
  double server_cpu_seconds = -1;  // -1: no publisher in this phase.
  double broker_cpu_seconds = -1;  // -1: not measured.
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;

  double events_per_second() const { return wall_seconds > 0 ? events / wall_seconds : 0; }
  // CPU seconds per million acknowledged events; -1 for -1.
  double PerMillion(double cpu_seconds) const {
    return cpu_seconds < 0 || events == 0 ? -1 : cpu_seconds * 1e6 / static_cast<double>(events);
  }
};

// Fills `result`'s counts, latencies and CPU figures from a finished phase.
void Summarize(const AckLog& log, const CpuMeter& cpu, int64_t start_ns, int64_t end_ns,
               PhaseResult& result);

}  // namespace coop::bench

#endif  // COOP_TOOLS_BENCH_MEASUREMENT_H_
