#include "tools/bench/measurement.h"

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace coop::bench {
namespace {

double Percentile(const std::vector<int64_t>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  // Nearest rank: the smallest value with at least `fraction` of the values at or below it.
  size_t rank = static_cast<size_t>(std::ceil(fraction * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return static_cast<double>(sorted[rank - 1]) / 1e6;
}

}  // namespace

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void SleepUntilNanos(int64_t deadline_ns) {
  const int64_t wait = deadline_ns - NowNanos();
  if (wait > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
}

double SelfCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

absl::StatusOr<double> ProcessCpuSeconds(pid_t pid) {
  std::ifstream file(absl::StrCat("/proc/", pid, "/stat"));
  std::stringstream text;
  text << file.rdbuf();
  const std::string stat = text.str();
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses; fields after the last
  // ')' start with field 3 (state). utime and stime are fields 14 and 15.
  const size_t close = stat.rfind(')');
  if (!file || close == std::string::npos) {
    return absl::NotFoundError(absl::StrCat("process ", pid, " is gone"));
  }
  const std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(stat).substr(close + 2), ' ');
  if (fields.size() < 13) {
    return absl::InternalError(absl::StrCat("/proc/", pid, "/stat: too few fields"));
  }
  const double ticks = std::stod(std::string(fields[11])) + std::stod(std::string(fields[12]));
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

void CpuMeter::Start() {
  client_ = SelfCpuSeconds();
  server_ = server_pid_ == 0 ? -1 : ProcessCpuSeconds(server_pid_).value_or(-1);
  broker_ = broker_pid_ == 0 ? -1 : ProcessCpuSeconds(broker_pid_).value_or(-1);
}

void CpuMeter::Stop() {
  client_ = SelfCpuSeconds() - client_;
  auto delta = [](pid_t pid, double start) {
    if (pid == 0 || start < 0) return -1.0;
    absl::StatusOr<double> now = ProcessCpuSeconds(pid);
    return now.ok() ? *now - start : -1.0;
  };
  server_ = delta(server_pid_, server_);
  broker_ = delta(broker_pid_, broker_);
}

AckLog::AckLog(int64_t events)
    : sent_ns_(events, 0), latency_ns_(events, -1), remaining_(static_cast<int>(events)) {}

void AckLog::Acked(int64_t index) {
  latency_ns_[index] = NowNanos() - sent_ns_[index];
  remaining_.DecrementCount();
}

void AckLog::Failed(int64_t /*index*/, absl::string_view error) {
  if (errors_.fetch_add(1, std::memory_order_relaxed) == 0) {
    absl::MutexLock lock(&mu_);
    first_error_ = std::string(error);
  }
  remaining_.DecrementCount();
}

std::string AckLog::first_error() const {
  absl::MutexLock lock(&mu_);
  return first_error_;
}

std::vector<int64_t> AckLog::AckedLatencies() const {
  std::vector<int64_t> latencies;
  latencies.reserve(latency_ns_.size());
  for (int64_t ns : latency_ns_) {
    if (ns >= 0) latencies.push_back(ns);
  }
  return latencies;
}

void Summarize(const AckLog& log, const CpuMeter& cpu, int64_t start_ns, int64_t end_ns,
               PhaseResult& result) {
  std::vector<int64_t> latencies = log.AckedLatencies();
  std::sort(latencies.begin(), latencies.end());
  result.events = static_cast<int64_t>(latencies.size());
  result.errors = log.errors();
  result.first_error = log.first_error();
  result.wall_seconds = static_cast<double>(end_ns - start_ns) / 1e9;
  result.client_cpu_seconds = cpu.client_seconds();
  result.server_cpu_seconds = cpu.server_seconds();
  result.broker_cpu_seconds = cpu.broker_seconds();
  result.p50_ms = Percentile(latencies, 0.50);
  result.p99_ms = Percentile(latencies, 0.99);
  result.max_ms = latencies.empty() ? 0 : static_cast<double>(latencies.back()) / 1e6;
}

}  // namespace coop::bench
