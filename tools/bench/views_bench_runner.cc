#include "tools/bench/views_bench_runner.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/kafka/consumer.h"
#include "common/kafka/topic_admin.h"
#include "common/status_macros.h"
#include "consumers/views/sql/connection.h"
#include "tools/bench/measurement.h"
#include "tools/bench/view_events.h"

namespace coop::bench {
namespace {

constexpr absl::Duration kKafkaTimeout = absl::Seconds(60);
constexpr int64_t kSmallEvents = 1000;

pid_t ReadPidFile(const std::string& path) {
  if (path.empty()) return 0;
  std::ifstream file(path);
  std::string text;
  std::getline(file, text);
  int pid = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &pid)) return 0;
  return pid;
}

// Records in `topic` (sum of the end offsets as a read_committed reader sees them).
absl::StatusOr<int64_t> CountRecords(const kafka::KafkaConfig& kafka, const std::string& topic,
                                     int32_t partitions) {
  COOP_ASSIGN_OR_RETURN(std::unique_ptr<kafka::Consumer> consumer,
                        kafka::Consumer::Create(kafka, kafka::ConsumerOptions{}));
  COOP_ASSIGN_OR_RETURN(const auto ends, consumer->EndOffsets(topic, partitions, kKafkaTimeout));
  int64_t records = 0;
  for (const auto& [partition, end] : ends) records += end;
  return records;
}

// The topics of one run and whether this run made them (and so deletes them).
class Topics {
 public:
  Topics(const ViewsBenchConfig& config, kafka::TopicAdmin& admin, std::ostream& progress)
      : config_(config), admin_(admin), progress_(progress) {}

  ~Topics() {
    for (const std::string& topic : created_) {
      if (absl::Status deleted = admin_.DeleteTopic(topic, kKafkaTimeout); !deleted.ok()) {
        progress_ << "cannot delete topic " << topic << ": " << deleted << "\n";
      }
    }
  }

  // Makes `name` hold `events` (the first events.size() generated ones): reuses it when it
  // holds exactly that many records, writes them into it when it is new. Returns whether it
  // wrote, and the seconds writing took.
  absl::StatusOr<std::pair<bool, double>> Fill(const std::string& name,
                                               absl::Span<const coop::v1::Event> events,
                                               bool fresh) {
    const kafka::TopicSpec spec{.name = name,
                                .partitions = config_.partitions,
                                // The generated events were recorded in 2025: keep them.
                                .configs = {{"retention.ms", "-1"}}};
    bool exists = false;
    if (!fresh) {
      absl::StatusOr<kafka::TopicDescription> described = admin_.DescribeTopic(name, kKafkaTimeout);
      if (!described.ok() && !absl::IsNotFound(described.status())) return described.status();
      exists = described.ok();
    }
    COOP_RETURN_IF_ERROR(admin_.EnsureTopics({spec}, kKafkaTimeout));
    if (fresh) created_.push_back(name);
    const auto wanted = static_cast<int64_t>(events.size());
    if (exists) {
      COOP_ASSIGN_OR_RETURN(const int64_t held, CountRecords(kafka(), name, config_.partitions));
      if (held != wanted) {
        return absl::FailedPreconditionError(absl::StrCat("topic ", name, " exists with ", held,
                                                          " records; it can be reused only "
                                                          "with exactly the ",
                                                          wanted, " this run would write"));
      }
      progress_ << "reusing topic " << name << " (" << held << " records)\n";
      return std::make_pair(false, 0.0);
    }
    progress_ << "writing " << wanted << " events to " << name << "\n";
    COOP_ASSIGN_OR_RETURN(const double seconds, ProduceEvents(kafka(), name, events, progress_));
    return std::make_pair(true, seconds);
  }

  absl::Status EnsureDeadLetters(const std::string& name, bool fresh) {
    COOP_RETURN_IF_ERROR(admin_.EnsureTopics({kafka::TopicSpec{.name = name}}, kKafkaTimeout));
    if (fresh) created_.push_back(name);
    return absl::OkStatus();
  }

  kafka::KafkaConfig kafka() const {
    kafka::KafkaConfig kafka;
    kafka.bootstrap_servers = config_.bootstrap_servers;
    kafka.client_id = "coop-views-bench";
    return kafka;
  }

 private:
  const ViewsBenchConfig& config_;
  kafka::TopicAdmin& admin_;
  std::ostream& progress_;
  std::vector<std::string> created_;
};

std::string Line(const ConsumeResult& r) {
  std::string line =
      absl::StrFormat("  round %d %-8s %9.0f events/s  %7.2f s  cpu %6.2f s", r.round, r.phase,
                      r.events_per_second(), r.wall_seconds, r.client_cpu_seconds);
  if (r.server_cpu_seconds >= 0) absl::StrAppendFormat(&line, " + db %.2f s", r.server_cpu_seconds);
  if (r.vs_raw >= 0) absl::StrAppendFormat(&line, "  %.4f x raw", r.vs_raw);
  if (r.db_bytes >= 0) absl::StrAppendFormat(&line, "  db %.1f MiB", r.db_bytes / 1048576.0);
  return line + "\n";
}

}  // namespace

absl::Status ViewsBenchConfig::Validate() const {
  if (bootstrap_servers.empty()) return absl::InvalidArgumentError("bootstrap_servers: required");
  if (events < 1) return absl::InvalidArgumentError("events: must be at least 1");
  if (rounds < 1) return absl::InvalidArgumentError("rounds: must be at least 1");
  if (partitions < 1) return absl::InvalidArgumentError("partitions: must be at least 1");
  if (max_batch_records < 1) {
    return absl::InvalidArgumentError("max_batch_records: must be at least 1");
  }
  if (correction_percent < 0 || correction_percent > 50) {
    return absl::InvalidArgumentError("correction_percent: must be 0..50");
  }
  if (query_samples < 0) return absl::InvalidArgumentError("query_samples: must not be negative");
  if (work_dir.empty()) return absl::InvalidArgumentError("work_dir: required");
  return absl::OkStatus();
}

absl::StatusOr<ViewsBenchResults> RunViewsBenchmark(const ViewsBenchConfig& config,
                                                    std::ostream& progress) {
  COOP_RETURN_IF_ERROR(config.Validate());
  std::error_code error;
  std::filesystem::create_directories(config.work_dir, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("work_dir ", config.work_dir, ": ", error.message()));
  }
  ViewsBenchResults results;
  const bool fresh = config.topic.empty();
  results.topic =
      fresh ? absl::StrCat("coop-views-bench-", absl::ToUnixMillis(absl::Now()), "-", getpid())
            : config.topic;

  kafka::KafkaConfig kafka;
  kafka.bootstrap_servers = config.bootstrap_servers;
  kafka.client_id = "coop-views-bench";
  COOP_ASSIGN_OR_RETURN(std::unique_ptr<kafka::TopicAdmin> admin, kafka::TopicAdmin::Create(kafka));
  COOP_ASSIGN_OR_RETURN(const std::string cluster_id, admin->ClusterId(kKafkaTimeout));
  Topics topics(config, *admin, progress);

  progress << "generating " << config.events << " events\n";
  std::vector<coop::v1::Event> events = GenerateViewEvents(
      ViewEventsOptions{.count = config.events, .correction_percent = config.correction_percent});
  COOP_ASSIGN_OR_RETURN(const auto written, topics.Fill(results.topic, events, fresh));
  results.produced = written.first;
  results.produce_records = config.events;
  results.produce_seconds = written.second;
  if (results.produced) {
    progress << absl::StrFormat("  %d events written in %.1f s (%.0f events/s)\n", config.events,
                                results.produce_seconds,
                                config.events / std::max(results.produce_seconds, 1e-9));
  }
  // Only the first events are needed from here on (the small query database and its keys).
  const int64_t small_events = std::min(kSmallEvents, config.events);
  std::vector<coop::v1::Event> first(events.begin(), events.begin() + small_events);
  events = {};

  EventLog log{.kafka = kafka,
               .cluster_id = cluster_id,
               .topic = results.topic,
               .dead_letter_topic = results.topic + ".dlq",
               .partitions = config.partitions,
               .records = config.events,
               .broker_pid = ReadPidFile(config.broker_pid_file)};
  COOP_RETURN_IF_ERROR(topics.EnsureDeadLetters(log.dead_letter_topic, fresh));
  const ProjectionOptions projection{.max_batch_records = config.max_batch_records};
  const std::string sqlite_path = config.work_dir + "/views.sqlite";
  if (config.postgres_url.empty()) {
    progress << "no --postgres_url: the postgres phase is skipped\n";
  }

  for (int32_t round = 1; round <= config.rounds; ++round) {
    progress << "round " << round << " of " << config.rounds << "\n";
    std::vector<std::string> projections = {"sqlite"};
    if (!config.postgres_url.empty()) projections.push_back("postgres");
    for (const std::string& phase : projections) {
      COOP_ASSIGN_OR_RETURN(ConsumeResult raw, RawConsume(log));
      raw.round = round;
      if (results.mean_record_bytes == 0) {
        results.mean_record_bytes =
            static_cast<double>(raw.value_bytes) / static_cast<double>(raw.records);
      }
      progress << Line(raw);
      absl::StatusOr<ConsumeResult> projected =
          phase == "sqlite"
              ? ProjectIntoSqlite(log, projection, sqlite_path)
              : ProjectIntoPostgres(log, projection, config.postgres_url,
                                    absl::StrCat("views_bench_", getpid(), "_r", round));
      if (!projected.ok()) {
        return absl::Status(projected.status().code(), absl::StrCat(phase, " round ", round, ": ",
                                                                    projected.status().message()));
      }
      projected->round = round;
      projected->vs_raw = projected->events_per_second() / raw.events_per_second();
      progress << Line(*projected);
      const double raw_rate = raw.events_per_second();
      results.phases.push_back(std::move(raw));
      results.phases.push_back(*std::move(projected));
      if (phase != "sqlite" || !config.floor) continue;
      for (const bool indexed : {false, true}) {
        COOP_ASSIGN_OR_RETURN(
            ConsumeResult floor,
            SqliteFloor(log, projection, config.work_dir + "/floor.sqlite", indexed));
        floor.round = round;
        floor.vs_raw = floor.events_per_second() / raw_rate;
        progress << Line(floor);
        results.phases.push_back(std::move(floor));
      }
    }
  }

  if (config.query_samples == 0) {
    progress << "--query_samples=0: the query phase is skipped\n";
    return results;
  }
  // The small database is built like the large one: its own topic, the same consumer.
  const std::string small_topic = results.topic + ".1k";
  COOP_RETURN_IF_ERROR(topics.Fill(small_topic, absl::MakeConstSpan(first), fresh).status());
  EventLog small_log = log;
  small_log.topic = small_topic;
  small_log.records = small_events;
  const std::string small_path = config.work_dir + "/views-1k.sqlite";
  progress << "building the " << small_events << "-event query database\n";
  COOP_RETURN_IF_ERROR(ProjectIntoSqlite(small_log, projection, small_path).status());

  COOP_ASSIGN_OR_RETURN(const QueryTargets targets, PickQueryTargets(first));
  COOP_ASSIGN_OR_RETURN(std::unique_ptr<views::sql::Connection> small,
                        views::sql::OpenSqlite(small_path));
  COOP_ASSIGN_OR_RETURN(std::unique_ptr<views::sql::Connection> large,
                        views::sql::OpenSqlite(sqlite_path));
  progress << "timing queries: " << config.query_samples << " calls per kind on the "
           << small_events << "- and the " << config.events << "-event database\n";
  // The small database was read from its own topic; the cursors the calls encode are only
  // built (as the service builds them), never checked, so one log id serves both.
  COOP_ASSIGN_OR_RETURN(results.queries, RunQueryPhase(*small, small_events, *large, config.events,
                                                       cursor::LogId{.cluster_id = cluster_id,
                                                                     .topic = results.topic},
                                                       targets, config.query_samples, progress));
  return results;
}

}  // namespace coop::bench
