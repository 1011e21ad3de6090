// The views benchmark's figures for people (a table and the goals of issue 4) and for programs
// (JSON): per phase the median over rounds with min and max; per goal the ratio of two phases of
// the same round, median over rounds; query latencies per kind and database size.
#ifndef COOP_TOOLS_BENCH_VIEWS_BENCH_REPORT_H_
#define COOP_TOOLS_BENCH_VIEWS_BENCH_REPORT_H_

#include <string>

#include "tools/bench/views_bench_runner.h"

namespace coop::bench {

// Goals of issue 4.
inline constexpr double kSqliteVsRawGoal = 0.3;     // At least.
inline constexpr double kQueryP99GrowthGoal = 2.0;  // At most.

std::string ViewsTextReport(const ViewsBenchConfig& config, const ViewsBenchResults& results);
std::string ViewsJsonReport(const ViewsBenchConfig& config, const ViewsBenchResults& results);

}  // namespace coop::bench

#endif  // COOP_TOOLS_BENCH_VIEWS_BENCH_REPORT_H_
