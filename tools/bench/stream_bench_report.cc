#include "tools/bench/stream_bench_report.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace coop::bench {
namespace {

constexpr double kReplayGoal = 0.7;   // coop-stream events/s over kcat's, at least.
constexpr double kSeekGoal = 2.0;     // Long history over short, at most.
constexpr double kRssGoalMib = 256;   // Below.
constexpr double kLatencyGoal = 1.5;  // Fan-out p99 over the plain consumer's, at most.

struct Stat {
  double median = 0;
  double min = 0;
  double max = 0;
};

Stat Summary(const std::vector<double>& values) {
  Stat stat;
  if (values.empty()) return stat;
  stat.median = Median(values);
  stat.min = *std::min_element(values.begin(), values.end());
  stat.max = *std::max_element(values.begin(), values.end());
  return stat;
}

Stat Over(const std::vector<ReplayRound>& rounds,
          const std::function<double(const ReplayRound&)>& f) {
  std::vector<double> values;
  for (const ReplayRound& round : rounds) values.push_back(f(round));
  return Summary(values);
}

std::vector<double> Scaled(const std::vector<double>& values, double factor) {
  std::vector<double> scaled;
  for (double v : values) scaled.push_back(v * factor);
  return scaled;
}

// 1234567 -> "1,234,567".
std::string Thousands(double value) {
  const std::string digits = absl::StrFormat("%.0f", std::abs(value));
  std::string out = value < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string Range(const Stat& stat, const std::function<std::string(double)>& format) {
  return absl::StrCat(format(stat.median), " [", format(stat.min), "..", format(stat.max), "]");
}

std::string Fixed(double value, int digits) { return absl::StrFormat("%.*f", digits, value); }

// CPU seconds per million events, or "–" when not measured.
std::string PerMillion(double seconds, int64_t events) {
  if (seconds < 0 || events == 0) return "–";
  return Fixed(seconds * 1e6 / static_cast<double>(events), 1);
}

std::string Verdict(bool met) { return met ? "met" : "**MISSED**"; }

double Mib(int64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

double SeekRatio(const SeekResult& seek) {
  const double small = Median(seek.small_first);
  return small > 0 ? Median(seek.large_first) / small : 0;
}

double LatencyRatio(const FanoutResult& fanout) {
  return fanout.raw_latency.p99_ms > 0 ? fanout.stream_latency.p99_ms / fanout.raw_latency.p99_ms
                                       : 0;
}

int64_t PeakRss(const FanoutResult& fanout) {
  return std::max(fanout.hwm_bytes, fanout.rss_max_bytes);
}

std::string JsonStat(const Stat& stat) {
  return absl::StrFormat(R"({"median": %.6g, "min": %.6g, "max": %.6g})", stat.median, stat.min,
                         stat.max);
}

std::string JsonList(const std::vector<double>& values) {
  return absl::StrCat("[",
                      absl::StrJoin(values, ", ",
                                    [](std::string* out, double v) {
                                      absl::StrAppend(out, absl::StrFormat("%.6g", v));
                                    }),
                      "]");
}

std::string JsonLatency(const LatencySummary& latency) {
  return absl::StrFormat(R"({"count": %d, "p50_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f})",
                         latency.count, latency.p50_ms, latency.p99_ms, latency.max_ms);
}

}  // namespace

std::string StreamTextReport(const StreamBenchConfig& config, const StreamBenchResults& results) {
  std::string out;
  std::vector<std::string> goals;
  if (!results.replay.empty()) {
    const auto& rounds = results.replay;
    const int64_t n = rounds.front().records;
    absl::StrAppend(&out, "\nReplay of the whole time range, ", Thousands(static_cast<double>(n)),
                    " events (mean record value ", Fixed(results.mean_record_bytes, 0),
                    " bytes), median [min..max] of ", rounds.size(), " rounds:\n\n");
    absl::StrAppend(
        &out,
        "| reader | events/s | first event ms | reader CPU s / 1M ev | "
        "coop-stream CPU s / 1M ev | broker CPU s / 1M ev |\n|---|---|---|---|---|---|\n");
    auto thousands = [](double v) { return Thousands(v); };
    auto ms = [](double v) { return Fixed(v * 1e3, 1); };
    absl::StrAppend(
        &out, "| kcat -C -o beginning -e (baseline) | ",
        Range(Over(rounds, [](const ReplayRound& r) { return r.kcat_per_second(); }), thousands),
        " | – | ",
        PerMillion(Over(rounds, [](const ReplayRound& r) { return r.kcat_cpu_seconds; }).median, n),
        " | – | ",
        PerMillion(
            Over(rounds, [](const ReplayRound& r) { return r.kcat_broker_cpu_seconds; }).median, n),
        " |\n");
    absl::StrAppend(
        &out, "| coop-stream Replay (gRPC client) | ",
        Range(Over(rounds, [](const ReplayRound& r) { return r.stream_per_second(); }), thousands),
        " | ",
        ms(Over(rounds, [](const ReplayRound& r) { return r.stream_first_event_seconds; }).median),
        " | ",
        PerMillion(
            Over(rounds, [](const ReplayRound& r) { return r.stream_client_cpu_seconds; }).median,
            n),
        " | ",
        PerMillion(
            Over(rounds, [](const ReplayRound& r) { return r.stream_server_cpu_seconds; }).median,
            n),
        " | ",
        PerMillion(
            Over(rounds, [](const ReplayRound& r) { return r.stream_broker_cpu_seconds; }).median,
            n),
        " |\n");
    const Stat ratio = Over(rounds, [](const ReplayRound& r) { return r.ratio(); });
    goals.push_back(absl::StrCat("| Replay events/s ÷ kcat events/s (same round) | ",
                                 Range(ratio, [](double v) { return Fixed(v, 3); }), " | ≥ ",
                                 Fixed(kReplayGoal, 2), " | ", Verdict(ratio.median >= kReplayGoal),
                                 " |"));
  }
  if (results.seek_ran) {
    const SeekResult& seek = results.seek;
    auto ms = [](double v) { return Fixed(v, 1); };
    absl::StrAppend(&out, "\nSeek: Replay of the last ", seek.range_events,
                    " events of the history, median [min..max] of ", seek.small_first.size(),
                    " calls each (alternating):\n\n| history | first event ms | whole call ms "
                    "|\n|---|---|---|\n");
    absl::StrAppend(&out, "| ", Thousands(static_cast<double>(seek.small_history)), " events | ",
                    Range(Summary(Scaled(seek.small_first, 1e3)), ms), " | ",
                    Range(Summary(Scaled(seek.small_total, 1e3)), ms), " |\n");
    absl::StrAppend(&out, "| ", Thousands(static_cast<double>(seek.large_history)), " events | ",
                    Range(Summary(Scaled(seek.large_first, 1e3)), ms), " | ",
                    Range(Summary(Scaled(seek.large_total, 1e3)), ms), " |\n");
    const double ratio = SeekRatio(seek);
    goals.push_back(absl::StrCat(
        "| time to first event, ", Thousands(static_cast<double>(seek.large_history)), " ÷ ",
        Thousands(static_cast<double>(seek.small_history)), " events of history (medians) | ",
        Fixed(ratio, 2), " | ≤ ", Fixed(kSeekGoal, 1), " | ", Verdict(ratio <= kSeekGoal), " |"));
  }
  if (results.fanout_ran) {
    const FanoutResult& f = results.fanout;
    auto latency = [](const LatencySummary& l) {
      return absl::StrFormat("%.2f / %.2f / %.2f", l.p50_ms, l.p99_ms, l.max_ms);
    };
    const double window = f.publish_seconds;
    absl::StrAppend(&out, "\nFan-out: ", config.subscribers,
                    " Subscribe streams on one coop-stream (", config.selective, " selective, ",
                    config.slow, " reading one message per ",
                    absl::FormatDuration(config.slow_read_interval), ", ", f.fast_subscribers,
                    " fast), events published at ", Thousands(config.rate), "/s for ",
                    absl::FormatDuration(config.fanout_duration), "; the others ask for up to ",
                    config.fanout_events_per_message,
                    " events per message:\n\n| figure | value |\n|---|---|\n");
    absl::StrAppend(&out, "| events published | ", Thousands(static_cast<double>(f.published)),
                    " in ", Fixed(window, 1), " s (", Thousands(f.published / window), "/s) |\n");
    absl::StrAppend(&out, "| deliveries/s, all subscribers, while publishing | ",
                    Thousands(f.deliveries_per_second()), " |\n");
    absl::StrAppend(&out, "| deliveries/s, fast subscribers, while publishing (due: ",
                    Thousands(static_cast<double>(f.fast_expected) / window), ") | ",
                    Thousands(static_cast<double>(f.fast_delivered_in_window) / window), " |\n");
    absl::StrAppend(&out, "| fast subscribers: delivered / due after ", Fixed(f.drain_seconds, 1),
                    " s of drain | ", Thousands(static_cast<double>(f.fast_delivered)), " / ",
                    Thousands(static_cast<double>(f.fast_expected)), " |\n");
    absl::StrAppend(&out, "| lowest share of a fast subscriber: end of publishing / after drain | ",
                    Fixed(f.fast_min_share_at_window_end, 4), " / ",
                    Fixed(f.fast_min_share_after_drain, 4), " |\n");
    absl::StrAppend(&out, "| starved fast subscribers (< 90 % at the end, or short after drain) | ",
                    f.starved, " |\n");
    absl::StrAppend(&out, "| slow subscribers' deliveries | ",
                    Thousands(static_cast<double>(f.slow_delivered)), " |\n");
    absl::StrAppend(&out, "| publish → delivery ms, fast subscribers, p50 / p99 / max (",
                    Thousands(static_cast<double>(f.stream_latency.count)), ") | ",
                    latency(f.stream_latency), " |\n");
    absl::StrAppend(&out, "| produce → consume ms, plain consumer, p50 / p99 / max | ",
                    latency(f.raw_latency), " |\n");
    absl::StrAppend(&out, "| coop-stream memory: VmHWM / largest VmRSS sampled | ",
                    Fixed(Mib(f.hwm_bytes), 1), " / ", Fixed(Mib(f.rss_max_bytes), 1), " MiB |\n");
    auto cores = [&](double seconds) {
      return seconds < 0 ? std::string("–") : Fixed(seconds / (window + f.drain_seconds), 2);
    };
    absl::StrAppend(&out, "| CPU, cores: coop-stream / bench client / broker | ",
                    cores(f.server_cpu_seconds), " / ", cores(f.client_cpu_seconds), " / ",
                    cores(f.broker_cpu_seconds), " |\n");
    const double peak_mib = Mib(PeakRss(f));
    goals.push_back(absl::StrCat("| coop-stream peak RSS with ", config.subscribers, " streams | ",
                                 Fixed(peak_mib, 1), " MiB | < ", Fixed(kRssGoalMib, 0), " MiB | ",
                                 Verdict(peak_mib < kRssGoalMib), " |"));
    goals.push_back(absl::StrCat("| fast subscribers starved | ", f.starved, " of ",
                                 f.fast_subscribers, " | 0 | ", Verdict(f.starved == 0), " |"));
    const double ratio = LatencyRatio(f);
    goals.push_back(absl::StrCat(
        "| fan-out p99 ÷ plain consumer p99 | ", Fixed(ratio, 2), " (",
        Fixed(f.stream_latency.p99_ms, 2), " / ", Fixed(f.raw_latency.p99_ms, 2), " ms) | ≤ ",
        Fixed(kLatencyGoal, 1), " | ", Verdict(ratio <= kLatencyGoal), " |"));
  }
  absl::StrAppend(&out, "\nGoals:\n\n| goal | measured | goal | result |\n|---|---|---|---|\n",
                  absl::StrJoin(goals, "\n"), "\n");
  return out;
}

std::string StreamJsonReport(const StreamBenchConfig& config, const StreamBenchResults& results) {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  std::string out = absl::StrCat(
      "{\n  \"config\": {\"events\": ", config.events, ", \"rounds\": ", config.rounds,
      ", \"seek_small_events\": ", config.seek_small_events,
      ", \"seek_range_events\": ", config.seek_range_events,
      ", \"seek_calls\": ", config.seek_calls, ", \"subscribers\": ", config.subscribers,
      ", \"selective\": ", config.selective, ", \"slow\": ", config.slow,
      ", \"slow_read_ms\": ", absl::ToInt64Milliseconds(config.slow_read_interval),
      ", \"rate\": ", config.rate,
      ", \"fanout_seconds\": ", absl::ToDoubleSeconds(config.fanout_duration),
      ", \"channels\": ", config.channels,
      ", \"fanout_events_per_message\": ", config.fanout_events_per_message, ", \"host\": \"", host,
      "\"},\n");
  absl::StrAppend(&out, "  \"produce\": {\"records\": ", results.produce_records,
                  ", \"seconds\": ", absl::StrFormat("%.3f", results.produce_seconds),
                  ", \"mean_record_bytes\": ", absl::StrFormat("%.1f", results.mean_record_bytes),
                  "},\n");
  std::vector<std::string> rounds;
  for (const ReplayRound& r : results.replay) {
    rounds.push_back(absl::StrFormat(
        R"(    {"round": %d, "records": %d, "kcat_seconds": %.4f, "kcat_cpu_seconds": %.3f, )"
        R"("kcat_broker_cpu_seconds": %.3f, "stream_seconds": %.4f, )"
        R"("stream_first_event_seconds": %.4f, "stream_server_cpu_seconds": %.3f, )"
        R"("stream_client_cpu_seconds": %.3f, "stream_broker_cpu_seconds": %.3f, )"
        R"("ratio": %.4f})",
        r.round, r.records, r.kcat_seconds, r.kcat_cpu_seconds, r.kcat_broker_cpu_seconds,
        r.stream_seconds, r.stream_first_event_seconds, r.stream_server_cpu_seconds,
        r.stream_client_cpu_seconds, r.stream_broker_cpu_seconds, r.ratio()));
  }
  absl::StrAppend(&out, "  \"replay\": {\"rounds\": [\n", absl::StrJoin(rounds, ",\n"),
                  "\n  ], \"ratio\": ",
                  JsonStat(Over(results.replay, [](const ReplayRound& r) { return r.ratio(); })),
                  ", \"goal_min\": ", kReplayGoal, "},\n");
  if (results.seek_ran) {
    const SeekResult& s = results.seek;
    absl::StrAppend(&out, "  \"seek\": {\"small_history\": ", s.small_history,
                    ", \"large_history\": ", s.large_history,
                    ", \"range_events\": ", s.range_events,
                    ", \"small_first_seconds\": ", JsonList(s.small_first),
                    ", \"large_first_seconds\": ", JsonList(s.large_first),
                    ", \"small_total_seconds\": ", JsonList(s.small_total),
                    ", \"large_total_seconds\": ", JsonList(s.large_total),
                    ", \"ratio\": ", absl::StrFormat("%.4f", SeekRatio(s)),
                    ", \"goal_max\": ", kSeekGoal, "},\n");
  }
  if (results.fanout_ran) {
    const FanoutResult& f = results.fanout;
    absl::StrAppend(
        &out, "  \"fanout\": {\"published\": ", f.published,
        ", \"publish_seconds\": ", absl::StrFormat("%.3f", f.publish_seconds),
        ", \"connect_seconds\": ", absl::StrFormat("%.3f", f.connect_seconds),
        ", \"delivered_in_window\": ", f.delivered_in_window,
        ", \"fast_delivered_in_window\": ", f.fast_delivered_in_window,
        ", \"deliveries_per_second\": ", absl::StrFormat("%.1f", f.deliveries_per_second()),
        ", \"fast_subscribers\": ", f.fast_subscribers, ", \"fast_expected\": ", f.fast_expected,
        ", \"fast_delivered\": ", f.fast_delivered, ", \"slow_delivered\": ", f.slow_delivered,
        ", \"fast_min_share_at_window_end\": ",
        absl::StrFormat("%.5f", f.fast_min_share_at_window_end),
        ", \"fast_min_share_after_drain\": ", absl::StrFormat("%.5f", f.fast_min_share_after_drain),
        ", \"starved\": ", f.starved,
        ", \"drain_seconds\": ", absl::StrFormat("%.3f", f.drain_seconds),
        ",\n    \"stream_latency\": ", JsonLatency(f.stream_latency),
        ", \"raw_latency\": ", JsonLatency(f.raw_latency),
        ", \"p99_ratio\": ", absl::StrFormat("%.4f", LatencyRatio(f)),
        ",\n    \"rss_max_bytes\": ", f.rss_max_bytes, ", \"hwm_bytes\": ", f.hwm_bytes,
        ", \"server_cpu_seconds\": ", absl::StrFormat("%.3f", f.server_cpu_seconds),
        ", \"client_cpu_seconds\": ", absl::StrFormat("%.3f", f.client_cpu_seconds),
        ", \"broker_cpu_seconds\": ", absl::StrFormat("%.3f", f.broker_cpu_seconds),
        ", \"goals\": {\"rss_max_mib\": ", kRssGoalMib,
        ", \"starved\": 0, \"p99_ratio_max\": ", kLatencyGoal, "}},\n");
  }
  // No trailing comma after the last member.
  out.resize(out.size() - 2);
  absl::StrAppend(&out, "\n}\n");
  return out;
}

}  // namespace coop::bench
