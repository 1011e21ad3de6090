#include "tools/bench/views_bench_report.h"

#include <unistd.h>

#include <algorithm>
#include <functional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace coop::bench {
namespace {

constexpr const char* kPhases[] = {"raw", "sqlite", "floor-table", "floor-timeline", "postgres"};

struct Stat {
  double median = 0;
  double min = 0;
  double max = 0;
  bool valid = false;  // At least one value.
};

// Negative values stand for "not measured" and are left out.
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

using Metric = std::function<double(const ConsumeResult&)>;

const std::vector<std::pair<const char*, Metric>>& Metrics() {
  static const auto* metrics = new std::vector<std::pair<const char*, Metric>>{
      {"events_per_second", [](const ConsumeResult& r) { return r.events_per_second(); }},
      {"vs_raw", [](const ConsumeResult& r) { return r.vs_raw; }},
      {"wall_seconds", [](const ConsumeResult& r) { return r.wall_seconds; }},
      {"client_cpu_s_per_million",
       [](const ConsumeResult& r) { return r.PerMillion(r.client_cpu_seconds); }},
      {"server_cpu_s_per_million",
       [](const ConsumeResult& r) { return r.PerMillion(r.server_cpu_seconds); }},
      {"broker_cpu_s_per_million",
       [](const ConsumeResult& r) { return r.PerMillion(r.broker_cpu_seconds); }},
      {"db_bytes", [](const ConsumeResult& r) { return static_cast<double>(r.db_bytes); }},
  };
  return *metrics;
}

Stat PhaseStat(const ViewsBenchResults& results, const std::string& phase, const char* metric) {
  for (const auto& [name, fn] : Metrics()) {
    if (absl::string_view(name) != metric) continue;
    std::vector<double> values;
    for (const ConsumeResult& r : results.phases) {
      if (r.phase == phase) values.push_back(fn(r));
    }
    return Summary(values);
  }
  return Stat{};
}

bool Ran(const ViewsBenchResults& results, const std::string& phase) {
  return std::any_of(results.phases.begin(), results.phases.end(),
                     [&](const ConsumeResult& r) { return r.phase == phase; });
}

std::string Cell(const Stat& stat, const char* format, double scale = 1) {
  if (!stat.valid) return "-";
  return absl::StrFormat(format, stat.median / scale);
}

std::string Range(const Stat& stat, const char* format, double scale = 1) {
  if (!stat.valid) return "";
  return absl::StrCat("[", absl::StrFormat(format, stat.min / scale), "..",
                      absl::StrFormat(format, stat.max / scale), "]");
}

std::string Verdict(bool valid, double value, double goal, bool at_least) {
  if (!valid) return "not measured";
  if (at_least ? value >= goal : value <= goal) return "PASS";
  const double off = at_least ? (1 - value / goal) * 100 : (value / goal - 1) * 100;
  return absl::StrFormat(off >= 10 ? "MISS by %.0f%% %s" : "MISS by %.1f%% %s", off,
                         at_least ? "(short)" : "(over)");
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

std::string SizeLabel(int64_t events) {
  if (events >= 1'000'000 && events % 1'000'000 == 0) return absl::StrCat(events / 1'000'000, "M");
  if (events >= 1000 && events % 1000 == 0) return absl::StrCat(events / 1000, "k");
  return absl::StrCat(events);
}

const QueryKindResult* AllQueries(const QueryResults& queries) {
  for (const QueryKindResult& kind : queries.kinds) {
    if (kind.kind == "all") return &kind;
  }
  return nullptr;
}

std::string JsonLatency(const LatencyStats& s) {
  return absl::StrCat(R"({"calls": )", s.calls, R"(, "p50_ms": )", Number(s.p50_ms),
                      R"(, "p99_ms": )", Number(s.p99_ms), R"(, "max_ms": )", Number(s.max_ms),
                      R"(, "mean_items": )", Number(s.mean_items), "}");
}

}  // namespace

std::string ViewsTextReport(const ViewsBenchConfig& config, const ViewsBenchResults& results) {
  std::string out = absl::StrFormat(
      "coop-views-bench: %d events (record values %.0f bytes on average, %d%% corrections), "
      "topic %s, %d partitions, batches of <= %d records, %d round(s), medians [min..max], %ld "
      "online CPUs\n",
      config.events, results.mean_record_bytes, config.correction_percent, results.topic,
      config.partitions, config.max_batch_records, config.rounds, sysconf(_SC_NPROCESSORS_ONLN));
  if (results.produced) {
    absl::StrAppendFormat(&out,
                          "produce: %d events in %.1f s, %.0f events/s (bulk producer, acks=all; "
                          "not a goal)\n",
                          results.produce_records, results.produce_seconds,
                          results.produce_records / std::max(results.produce_seconds, 1e-9));
  } else {
    absl::StrAppend(&out, "produce: topic reused, nothing written\n");
  }
  absl::StrAppend(
      &out, "\n",
      absl::StrFormat("%-14s %9s %-17s %7s %-17s %8s %7s %7s %9s\n", "phase", "events/s",
                      "[min..max]", "x raw", "[min..max]", "client*", "db*", "broker*", "db MiB"));
  for (const char* phase : kPhases) {
    if (!Ran(results, phase)) continue;
    const Stat rate = PhaseStat(results, phase, "events_per_second");
    const Stat ratio = PhaseStat(results, phase, "vs_raw");
    absl::StrAppend(
        &out,
        absl::StrFormat("%-14s %9s %-17s %7s %-17s %8s %7s %7s %9s\n", phase, Cell(rate, "%.0f"),
                        Range(rate, "%.0f"), Cell(ratio, "%.4f"), Range(ratio, "%.4f"),
                        Cell(PhaseStat(results, phase, "client_cpu_s_per_million"), "%.1f"),
                        Cell(PhaseStat(results, phase, "server_cpu_s_per_million"), "%.1f"),
                        Cell(PhaseStat(results, phase, "broker_cpu_s_per_million"), "%.1f"),
                        Cell(PhaseStat(results, phase, "db_bytes"), "%.1f", 1048576.0)));
  }
  absl::StrAppend(&out,
                  "x raw: events/s over the events/s of the raw phase run just before, same round\n"
                  "* CPU seconds (user + system) per million events: this process (all threads), "
                  "the PostgreSQL backend of the consumer, the broker JVM\n");
  if (Ran(results, "floor-table")) {
    absl::StrAppend(&out,
                    "floor-*: no projection, only SQLite: one row per event (source, id, subject, "
                    "time, position, record) with a prepared statement, synchronous=NORMAL; "
                    "floor-table into a plain table, floor-timeline with the (source, id) key and "
                    "the subject index a timeline needs; x raw against the sqlite phase's raw\n");
  }
  if (config.postgres_url.empty()) absl::StrAppend(&out, "postgres: skipped (no --postgres_url)\n");

  absl::StrAppend(&out, "\ngoals:\n");
  const Stat sqlite = PhaseStat(results, "sqlite", "vs_raw");
  absl::StrAppendFormat(&out, "  %-58s %6s %-17s >= %.2f  %s\n",
                        "SQLite projection events/s / raw consume events/s", Cell(sqlite, "%.4f"),
                        Range(sqlite, "%.4f"), kSqliteVsRawGoal,
                        Verdict(sqlite.valid, sqlite.median, kSqliteVsRawGoal, true));
  const QueryResults& queries = results.queries;
  const QueryKindResult* all = AllQueries(queries);
  if (all != nullptr) {
    absl::StrAppendFormat(
        &out, "  %-58s %6.2f %-17s <= %.2f  %s\n",
        absl::StrCat("query p99 with ", SizeLabel(queries.large_events), " events / with ",
                     SizeLabel(queries.small_events), " (all kinds)"),
        all->p99_ratio(), "", kQueryP99GrowthGoal,
        Verdict(true, all->p99_ratio(), kQueryP99GrowthGoal, false));
  } else {
    absl::StrAppendFormat(&out, "  %-58s %6s %-17s <= %.2f  not measured\n",
                          "query p99 growth with history", "-", "", kQueryP99GrowthGoal);
  }

  if (queries.ran) {
    const std::string small = SizeLabel(queries.small_events);
    const std::string large = SizeLabel(queries.large_events);
    absl::StrAppendFormat(
        &out,
        "\nqueries on SQLite, %d timed calls per kind and size (after %d untimed), each in its own "
        "snapshot transaction with the applied cursor, as the service runs them; ms:\n",
        queries.samples, queries.warmup);
    absl::StrAppend(&out,
                    absl::StrFormat("%-16s %9s %9s %8s %8s %8s %8s %8s %8s\n", "kind",
                                    absl::StrCat("items ", small), absl::StrCat("items ", large),
                                    absl::StrCat("p50 ", small), absl::StrCat("p99 ", small),
                                    absl::StrCat("p50 ", large), absl::StrCat("p99 ", large),
                                    absl::StrCat("max ", large), "p99 x"));
    for (const QueryKindResult& kind : queries.kinds) {
      absl::StrAppend(&out,
                      absl::StrFormat("%-16s %9.1f %9.1f %8.3f %8.3f %8.3f %8.3f %8.3f %8.2f\n",
                                      kind.kind, kind.small.mean_items, kind.large.mean_items,
                                      kind.small.p50_ms, kind.small.p99_ms, kind.large.p50_ms,
                                      kind.large.p99_ms, kind.large.max_ms, kind.p99_ratio()));
    }
    const QueryTargets& t = queries.targets;
    absl::StrAppendFormat(&out,
                          "targets: GetAgreement %s, GetHub %s, ListTradeRows region %s (first "
                          "page), ListTimeline subject %s (first page), GetRegion %s\n",
                          t.agreement_id, t.hub_id, t.trade_region, t.timeline_subject, t.region);
  }
  return out;
}

std::string ViewsJsonReport(const ViewsBenchConfig& config, const ViewsBenchResults& results) {
  std::string out = absl::StrCat(
      "{\n  \"config\": {\"bootstrap_servers\": ", JsonString(config.bootstrap_servers),
      ", \"postgres\": ", config.postgres_url.empty() ? "false" : "true",
      ", \"events\": ", config.events, ", \"rounds\": ", config.rounds,
      ", \"topic\": ", JsonString(results.topic), ", \"partitions\": ", config.partitions,
      ", \"max_batch_records\": ", config.max_batch_records,
      ", \"correction_percent\": ", config.correction_percent,
      ", \"query_samples\": ", config.query_samples,
      ", \"online_cpus\": ", sysconf(_SC_NPROCESSORS_ONLN), "},\n");
  absl::StrAppend(&out, "  \"produce\": {\"produced\": ", results.produced ? "true" : "false",
                  ", \"events\": ", results.produce_records,
                  ", \"seconds\": ", Number(results.produced ? results.produce_seconds : -1),
                  ", \"mean_record_bytes\": ", Number(results.mean_record_bytes), "},\n");
  std::vector<std::string> phases;
  for (const ConsumeResult& r : results.phases) {
    std::string phase =
        absl::StrCat("    {\"round\": ", r.round, ", \"phase\": ", JsonString(r.phase),
                     ", \"records\": ", r.records);
    if (r.applied >= 0) {
      absl::StrAppend(&phase, ", \"applied\": ", r.applied, ", \"duplicates\": ", r.duplicates,
                      ", \"batches\": ", r.batches);
    }
    for (const auto& [name, fn] : Metrics()) {
      absl::StrAppend(&phase, ", \"", name, "\": ", Number(fn(r)));
    }
    phases.push_back(absl::StrCat(phase, "}"));
  }
  absl::StrAppend(&out, "  \"phases\": [\n", absl::StrJoin(phases, ",\n"), "\n  ],\n");
  std::vector<std::string> medians;
  for (const char* phase : kPhases) {
    if (!Ran(results, phase)) continue;
    std::vector<std::string> stats;
    for (const auto& [name, fn] : Metrics()) {
      stats.push_back(absl::StrCat("\"", name, "\": ", JsonStat(PhaseStat(results, phase, name))));
    }
    medians.push_back(absl::StrCat("    \"", phase, "\": {", absl::StrJoin(stats, ", "), "}"));
  }
  absl::StrAppend(&out, "  \"medians\": {\n", absl::StrJoin(medians, ",\n"), "\n  },\n");

  const Stat sqlite = PhaseStat(results, "sqlite", "vs_raw");
  const QueryKindResult* all = AllQueries(results.queries);
  absl::StrAppend(
      &out, "  \"goals\": [\n",
      "    {\"name\": \"sqlite_projection_vs_raw_consume\", \"ratio\": ", JsonStat(sqlite),
      ", \"goal\": ", Number(kSqliteVsRawGoal), ", \"comparison\": \">=\", \"pass\": ",
      sqlite.valid ? (sqlite.median >= kSqliteVsRawGoal ? "true" : "false") : "null", "},\n",
      "    {\"name\": \"query_p99_large_vs_small\", \"ratio\": ",
      all != nullptr ? Number(all->p99_ratio()) : "null",
      ", \"goal\": ", Number(kQueryP99GrowthGoal), ", \"comparison\": \"<=\", \"pass\": ",
      all != nullptr ? (all->p99_ratio() <= kQueryP99GrowthGoal ? "true" : "false") : "null",
      "}\n  ],\n");

  const QueryResults& q = results.queries;
  std::vector<std::string> kinds;
  for (const QueryKindResult& kind : q.kinds) {
    kinds.push_back(absl::StrCat("      {\"kind\": ", JsonString(kind.kind), ", \"small\": ",
                                 JsonLatency(kind.small), ", \"large\": ", JsonLatency(kind.large),
                                 ", \"p99_ratio\": ", Number(kind.p99_ratio()), "}"));
  }
  absl::StrAppend(&out, "  \"queries\": {\"ran\": ", q.ran ? "true" : "false",
                  ", \"small_events\": ", q.small_events, ", \"large_events\": ", q.large_events,
                  ", \"samples\": ", q.samples, ", \"warmup\": ", q.warmup,
                  ", \"targets\": {\"agreement_id\": ", JsonString(q.targets.agreement_id),
                  ", \"hub_id\": ", JsonString(q.targets.hub_id),
                  ", \"trade_region\": ", JsonString(q.targets.trade_region),
                  ", \"timeline_subject\": ", JsonString(q.targets.timeline_subject),
                  ", \"region\": ", JsonString(q.targets.region), "}, \"kinds\": [\n",
                  absl::StrJoin(kinds, ",\n"), "\n  ]}\n}\n");
  return out;
}

}  // namespace coop::bench
