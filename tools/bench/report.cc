#include "tools/bench/report.h"

#include <unistd.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace coop::bench {
namespace {

// Every phase a round may hold, in report order.
constexpr const char* kRows[] = {"raw", "stream", "unary", "unary_half", "raw_half"};

struct Stat {
  double median = 0;
  double min = 0;
  double max = 0;
  bool valid = false;  // At least one value.
};

Stat Summary(std::vector<double> values) {
  Stat stat;
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return v < 0; }),
               values.end());
  if (values.empty()) return stat;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  stat.median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  stat.min = values.front();
  stat.max = values.back();
  stat.valid = true;
  return stat;
}

using Metric = std::function<double(const PhaseResult&)>;

const std::vector<std::pair<const char*, Metric>>& Metrics() {
  static const auto* metrics = new std::vector<std::pair<const char*, Metric>>{
      {"events_per_second", [](const PhaseResult& r) { return r.events_per_second(); }},
      {"target_rate", [](const PhaseResult& r) { return r.target_rate; }},
      {"p50_ms", [](const PhaseResult& r) { return r.p50_ms; }},
      {"p99_ms", [](const PhaseResult& r) { return r.p99_ms; }},
      {"max_ms", [](const PhaseResult& r) { return r.max_ms; }},
      {"client_cpu_s_per_million",
       [](const PhaseResult& r) { return r.PerMillion(r.client_cpu_seconds); }},
      {"server_cpu_s_per_million",
       [](const PhaseResult& r) { return r.PerMillion(r.server_cpu_seconds); }},
      {"broker_cpu_s_per_million",
       [](const PhaseResult& r) { return r.PerMillion(r.broker_cpu_seconds); }},
  };
  return *metrics;
}

Stat PhaseStat(const BenchResults& results, const std::string& phase, const Metric& metric) {
  std::vector<double> values;
  for (const RoundResult& round : results.rounds) {
    if (const PhaseResult* r = round.Find(phase)) values.push_back(metric(*r));
  }
  return Summary(values);
}

bool Ran(const BenchResults& results, const std::string& phase) {
  for (const RoundResult& round : results.rounds) {
    if (round.Find(phase) != nullptr) return true;
  }
  return false;
}

int64_t TotalErrors(const BenchResults& results, const std::string& phase) {
  int64_t errors = 0;
  for (const RoundResult& round : results.rounds) {
    if (const PhaseResult* r = round.Find(phase)) errors += r->errors;
  }
  return errors;
}

struct Goal {
  const char* name;
  const char* description;
  const char* numerator;
  const char* denominator;
  Metric metric;
  double goal;
  bool at_least;  // ratio >= goal passes; otherwise ratio <= goal passes.
  bool judged;    // false: shown for reference only.
};

std::vector<Goal> Goals() {
  const Metric throughput = [](const PhaseResult& r) { return r.events_per_second(); };
  const Metric p99 = [](const PhaseResult& r) { return r.p99_ms; };
  return {
      {"stream_throughput_vs_raw", "PublishStream events/s / raw events/s", "stream", "raw",
       throughput, 0.8, true, true},
      {"unary_throughput_vs_raw", "unary (callers) events/s / raw events/s", "unary", "raw",
       throughput, 0.25, true, true},
      {"unary_half_p99_vs_raw_half_p99",
       "unary p99 at half its max rate / raw p99 at that same rate", "unary_half", "raw_half", p99,
       2.0, false, true},
      {"unary_half_p99_vs_raw_p99", "unary p99 at half its max rate / raw p99 at full speed",
       "unary_half", "raw", p99, 2.0, false, false},
  };
}

// The goal's ratio per round (only rounds with both phases).
Stat GoalStat(const BenchResults& results, const Goal& goal) {
  std::vector<double> ratios;
  for (const RoundResult& round : results.rounds) {
    const PhaseResult* num = round.Find(goal.numerator);
    const PhaseResult* den = round.Find(goal.denominator);
    if (num != nullptr && den != nullptr && goal.metric(*den) > 0) {
      ratios.push_back(goal.metric(*num) / goal.metric(*den));
    }
  }
  return Summary(ratios);
}

bool Passes(const Goal& goal, double ratio) {
  return goal.at_least ? ratio >= goal.goal : ratio <= goal.goal;
}

std::string Verdict(const Goal& goal, const Stat& stat) {
  if (!stat.valid) return "not measured";
  const char* kind = goal.judged ? "" : " (reference only)";
  if (Passes(goal, stat.median)) return absl::StrCat("PASS", kind);
  const double off =
      goal.at_least ? (1 - stat.median / goal.goal) * 100 : (stat.median / goal.goal - 1) * 100;
  return absl::StrFormat(off >= 10 ? "MISS by %.0f%% %s%s" : "MISS by %.1f%% %s%s", off,
                         goal.at_least ? "(short)" : "(over)", kind);
}

std::string Cell(const Stat& stat, const char* format) {
  if (!stat.valid) return "-";
  return absl::StrFormat(format, stat.median);
}

std::string Range(const Stat& stat, const char* format) {
  if (!stat.valid) return "";
  return absl::StrCat(absl::StrFormat(format, stat.min), "..", absl::StrFormat(format, stat.max));
}

std::string Number(double value) {
  if (value != value || value < 0) return "null";
  return absl::StrFormat("%.6g", value);
}

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, absl::StrFormat("\\u%04x", c));
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

std::string JsonStat(const Stat& stat) {
  if (!stat.valid) return "null";
  return absl::StrCat(R"({"median": )", Number(stat.median), R"(, "min": )", Number(stat.min),
                      R"(, "max": )", Number(stat.max), "}");
}

}  // namespace

std::string TextReport(const BenchConfig& config, const BenchResults& results) {
  std::string out = absl::StrFormat(
      "coop-publish-bench: %d-byte events (serialized envelope as stored), acks=all, idempotence, "
      "linger.ms=%d, %d partitions%s\n"
      "%d events per phase (paced phases: rate x %s, 1000..%d), %d round(s), medians "
      "[min..max]\n"
      "unary callers %d, streams %d (window %d), raw outstanding <= %d, %ld online CPUs, "
      "broker %s\n\n",
      results.event_bytes, config.linger_ms, config.partitions,
      config.publisher_flags.empty()
          ? ""
          : absl::StrCat(", publisher ", absl::StrJoin(config.publisher_flags, " ")),
      config.events, absl::FormatDuration(config.paced_duration), config.events, config.rounds,
      config.unary_callers, config.stream_count, config.stream_window, config.raw_max_outstanding,
      sysconf(_SC_NPROCESSORS_ONLN), config.bootstrap_servers);
  absl::StrAppend(&out, absl::StrFormat("%-11s %9s %-17s %8s %8s %-17s %8s %8s %8s %6s\n", "phase",
                                        "events/s", "[min..max]", "p50 ms", "p99 ms", "[min..max]",
                                        "client*", "server*", "broker*", "errors"));
  for (const char* phase : kRows) {
    if (!Ran(results, phase)) continue;
    auto stat = [&](const char* metric) {
      for (const auto& [name, fn] : Metrics()) {
        if (absl::string_view(name) == metric) return PhaseStat(results, phase, fn);
      }
      return Stat{};
    };
    const Stat rate = stat("events_per_second");
    const Stat p99 = stat("p99_ms");
    absl::StrAppend(
        &out, absl::StrFormat(
                  "%-11s %9s %-15s %9s %8s %-17s %12s %6s %6s %6d\n", phase, Cell(rate, "%.0f"),
                  absl::StrCat("[", Range(rate, "%.0f"), "]"), Cell(stat("p50_ms"), "%.2f"),
                  Cell(p99, "%.2f"), absl::StrCat("[", Range(p99, "%.2f"), "]"),
                  Cell(stat("client_cpu_s_per_million"), "%.1f"),
                  Cell(stat("server_cpu_s_per_million"), "%.1f"),
                  Cell(stat("broker_cpu_s_per_million"), "%.1f"), TotalErrors(results, phase)));
  }
  absl::StrAppend(&out,
                  "* CPU seconds (user + system) per million events: this process (client; for "
                  "raw phases the producer), coop-publisher, the broker JVM\n");
  if (Ran(results, "unary_half")) {
    const Stat target =
        PhaseStat(results, "unary_half", [](const PhaseResult& r) { return r.target_rate; });
    absl::StrAppend(&out, absl::StrFormat("(unary_half and raw_half paced at %s events/s [%s])\n",
                                          Cell(target, "%.0f"), Range(target, "%.0f")));
  }
  absl::StrAppend(&out, "\ngoals (ratio of two phases of the same round; median [min..max]):\n");
  for (const Goal& goal : Goals()) {
    const Stat stat = GoalStat(results, goal);
    absl::StrAppend(&out,
                    absl::StrFormat("  %-60s %6s %-13s %s %.2f  %s\n", goal.description,
                                    Cell(stat, "%.3f"), absl::StrCat("[", Range(stat, "%.3f"), "]"),
                                    goal.at_least ? ">=" : "<=", goal.goal, Verdict(goal, stat)));
  }
  return out;
}

std::string JsonReport(const BenchConfig& config, const BenchResults& results) {
  std::string out = absl::StrCat(
      "{\n  \"config\": {\"bootstrap_servers\": ", JsonString(config.bootstrap_servers),
      ", \"events\": ", config.events, ", \"event_bytes_target\": ", config.event_bytes,
      ", \"event_bytes\": ", results.event_bytes, ", \"unary_callers\": ", config.unary_callers,
      ", \"rounds\": ", config.rounds, ", \"phases\": [",
      absl::StrJoin(config.phases, ", ",
                    [](std::string* o, const std::string& p) { o->append(JsonString(p)); }),
      "], \"stream_count\": ", config.stream_count, ", \"stream_window\": ", config.stream_window,
      ", \"raw_max_outstanding\": ", config.raw_max_outstanding,
      ", \"half_rate\": ", Number(config.half_rate),
      ", \"paced_seconds\": ", Number(absl::ToDoubleSeconds(config.paced_duration)),
      ", \"partitions\": ", config.partitions, ", \"online_cpus\": ", sysconf(_SC_NPROCESSORS_ONLN),
      "},\n  \"rounds\": [\n");
  std::vector<std::string> rounds;
  for (const RoundResult& round : results.rounds) {
    std::vector<std::string> phases;
    for (const PhaseResult& r : round.phases) {
      std::string phase =
          absl::StrCat("      {\"phase\": ", JsonString(r.phase), ", \"events\": ", r.events,
                       ", \"errors\": ", r.errors, ", \"first_error\": ", JsonString(r.first_error),
                       ", \"wall_seconds\": ", Number(r.wall_seconds));
      for (const auto& [name, fn] : Metrics()) {
        absl::StrAppend(&phase, ", \"", name, "\": ", Number(fn(r)));
      }
      phases.push_back(absl::StrCat(phase, "}"));
    }
    rounds.push_back(absl::StrCat("    {\"round\": ", round.round, ", \"phases\": [\n",
                                  absl::StrJoin(phases, ",\n"), "]}"));
  }
  absl::StrAppend(&out, absl::StrJoin(rounds, ",\n"), "\n  ],\n  \"medians\": {\n");
  std::vector<std::string> medians;
  for (const char* phase : kRows) {
    if (!Ran(results, phase)) continue;
    std::vector<std::string> stats;
    for (const auto& [name, fn] : Metrics()) {
      stats.push_back(absl::StrCat("\"", name, "\": ", JsonStat(PhaseStat(results, phase, fn))));
    }
    medians.push_back(absl::StrCat("    \"", phase, "\": {", absl::StrJoin(stats, ", "), "}"));
  }
  absl::StrAppend(&out, absl::StrJoin(medians, ",\n"), "\n  },\n  \"goals\": [\n");
  std::vector<std::string> goals;
  for (const Goal& goal : Goals()) {
    const Stat stat = GoalStat(results, goal);
    goals.push_back(absl::StrCat(
        "    {\"name\": \"", goal.name, "\", \"description\": ", JsonString(goal.description),
        ", \"ratio\": ", JsonStat(stat), ", \"goal\": ", Number(goal.goal), ", \"comparison\": \"",
        goal.at_least ? ">=" : "<=", "\", \"judged\": ", goal.judged ? "true" : "false",
        ", \"pass\": ", stat.valid ? (Passes(goal, stat.median) ? "true" : "false") : "null", "}"));
  }
  absl::StrAppend(&out, absl::StrJoin(goals, ",\n"), "\n  ]\n}\n");
  return out;
}

}  // namespace coop::bench
