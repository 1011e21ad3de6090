// The stream benchmark's figures for people (Markdown tables and the goals) and for programs
// (JSON): medians over rounds and calls with min and max, and each ratio against its goal.
#ifndef COOP_TOOLS_BENCH_STREAM_BENCH_REPORT_H_
#define COOP_TOOLS_BENCH_STREAM_BENCH_REPORT_H_

#include <string>

#include "tools/bench/stream_bench_runner.h"

namespace coop::bench {

std::string StreamTextReport(const StreamBenchConfig& config, const StreamBenchResults& results);
std::string StreamJsonReport(const StreamBenchConfig& config, const StreamBenchResults& results);

}  // namespace coop::bench

#endif  // COOP_TOOLS_BENCH_STREAM_BENCH_REPORT_H_
