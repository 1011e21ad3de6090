// The benchmark's figures for people (a table and the goals) and for programs (JSON): per
// phase the median over rounds with min and max, and per goal the ratio of two phases of the
// same round, median over rounds.
#ifndef COOP_TOOLS_BENCH_REPORT_H_
#define COOP_TOOLS_BENCH_REPORT_H_

#include <string>

#include "tools/bench/bench_runner.h"

namespace coop::bench {

std::string TextReport(const BenchConfig& config, const BenchResults& results);
std::string JsonReport(const BenchConfig& config, const BenchResults& results);

}  // namespace coop::bench

#endif  // COOP_TOOLS_BENCH_REPORT_H_
