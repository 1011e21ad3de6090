#include "tools/bench/stream_bench_runner.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "common/events/record_codec.h"
#include "common/kafka/consumer.h"
#include "common/kafka/event_topics.h"
#include "common/kafka/producer.h"
#include "common/kafka/topic_admin.h"
#include "common/status_macros.h"
#include "grpcpp/grpcpp.h"
#include "tools/bench/bulk_produce.h"
#include "tools/bench/measurement.h"
#include "tools/bench/stream_bench_process.h"
#include "tools/bench/stream_bench_replay.h"
#include "tools/bench/view_events.h"

namespace coop::bench {
namespace {

constexpr absl::Duration kKafkaTimeout = absl::Seconds(30);
constexpr absl::Duration kServeTimeout = absl::Seconds(60);
constexpr absl::Duration kStopTimeout = absl::Seconds(40);

// One principal that may read every event; calls without credentials act as it.
constexpr absl::string_view kPolicy = R"json({"principals": [
  {"id": "local-dev",
   "display_name": "coop-stream-bench",
   "subscribe": {"event_types": ["*"], "regions": ["*"]}}
]}
)json";

absl::Time ToTime(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
}

// The run's topics and coop-stream children; stops the children and deletes the topics when
// destroyed.
class Fixture {
 public:
  Fixture(const StreamBenchConfig& config, kafka::TopicAdmin& admin, std::ostream& progress)
      : config_(config), admin_(admin), progress_(progress) {
    kafka_.bootstrap_servers = config.bootstrap_servers;
    kafka_.client_id = "coop-stream-bench";
  }

  ~Fixture() {
    // Children first: a server whose topic disappears would only log errors.
    for (auto& [topic, child] : children_) {
      if (child == nullptr) continue;
      if (absl::Status stopped = child->Stop(kStopTimeout); !stopped.ok()) {
        progress_ << "coop-stream on " << topic << ": " << stopped << "\n";
      }
    }
    for (const std::string& topic : created_) {
      if (absl::Status deleted = admin_.DeleteTopic(topic, kKafkaTimeout); !deleted.ok()) {
        progress_ << "cannot delete topic " << topic << ": " << deleted << "\n";
      }
    }
  }

  const kafka::KafkaConfig& kafka() const { return kafka_; }

  // A new event log topic (EventTopicSpecs: 6 partitions, kept forever), deleted at the end.
  absl::Status CreateTopic(const std::string& name) {
    std::vector<kafka::TopicSpec> specs =
        kafka::EventTopicSpecs({.events_topic = name, .dead_letter_topic = name + ".dlq"});
    std::erase_if(specs, [&](const kafka::TopicSpec& spec) { return spec.name != name; });
    COOP_RETURN_IF_ERROR(admin_.EnsureTopics(specs, kKafkaTimeout));
    created_.push_back(name);
    // A new topic's partitions answer offset queries only once their leaders are elected, a
    // moment after creation; coop-stream asks for the end offsets at start and gives up on an
    // error.
    COOP_ASSIGN_OR_RETURN(std::unique_ptr<kafka::Consumer> consumer,
                          kafka::Consumer::Create(kafka_, {}));
    const absl::Time deadline = absl::Now() + kKafkaTimeout;
    while (true) {
      absl::StatusOr<std::map<int32_t, int64_t>> ends =
          consumer->EndOffsets(name, specs.front().partitions, kKafkaTimeout);
      if (ends.ok()) return absl::OkStatus();
      if (absl::Now() > deadline) return ends.status();
      absl::SleepFor(absl::Milliseconds(200));
    }
  }

  // Starts coop-stream on `topic` and waits until it serves.
  absl::StatusOr<StreamProcess*> StartStream(const std::string& topic) {
    StreamProcessOptions options;
    options.binary = config_.stream_binary;
    options.bootstrap_servers = config_.bootstrap_servers;
    options.events_topic = topic;
    options.policy_file = absl::StrCat(config_.work_dir, "/policy.json");
    options.log_file = absl::StrCat(config_.work_dir, "/", topic, ".log");
    options.extra_flags = {"--settle_delay=1s"};
    options.extra_flags.insert(options.extra_flags.end(), config_.stream_flags.begin(),
                               config_.stream_flags.end());
    COOP_ASSIGN_OR_RETURN(std::unique_ptr<StreamProcess> child, StartStreamProcess(options));
    COOP_RETURN_IF_ERROR(child->WaitUntilServing(kServeTimeout));
    progress_ << "  coop-stream pid " << child->pid() << " serves " << topic << " at "
              << child->address() << "\n";
    children_.emplace_back(topic, std::move(child));
    return children_.back().second.get();
  }

  // Stops the child serving `topic` (SIGTERM); it must exit with status 0.
  absl::Status StopStream(const std::string& topic) {
    for (auto& [name, child] : children_) {
      if (name != topic || child == nullptr) continue;
      absl::Status stopped = child->Stop(kStopTimeout);
      child.reset();
      return stopped;
    }
    return absl::NotFoundError(absl::StrCat("no coop-stream serves ", topic));
  }

 private:
  const StreamBenchConfig& config_;
  kafka::TopicAdmin& admin_;
  std::ostream& progress_;
  kafka::KafkaConfig kafka_;
  std::vector<std::string> created_;
  std::vector<std::pair<std::string, std::unique_ptr<StreamProcess>>> children_;
};

std::shared_ptr<grpc::Channel> ConnectedChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  channel->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  return channel;
}

// A topic filled with the first `count` generated events; the events' time span.
struct History {
  std::string topic;
  int64_t events = 0;
  absl::Time first;       // recorded_time of the first event.
  absl::Time end;         // Just past the last event's recorded_time.
  absl::Time tail_start;  // recorded_time of the first of the last seek_range_events events.
  StreamProcess* server = nullptr;
};

absl::StatusOr<History> MakeHistory(Fixture& fixture, const std::string& topic, int64_t count,
                                    const StreamBenchConfig& config, StreamBenchResults* results,
                                    std::ostream& progress) {
  progress << "generating " << count << " events for " << topic << "\n";
  // No exact duplicates: the generator repeats an earlier event with its old recorded_time,
  // which the publisher's dedup would never let into the log, and which Replay would reject as
  // disorder beyond its order window.
  std::vector<coop::v1::Event> events =
      GenerateViewEvents({.count = count, .duplicate_percent = 0});
  History history;
  history.topic = topic;
  history.events = count;
  history.first = ToTime(events.front().recorded_time());
  history.end = ToTime(events.back().recorded_time()) + absl::Milliseconds(1);
  const int64_t tail = std::min(count, config.seek_range_events);
  history.tail_start = ToTime(events[static_cast<size_t>(count - tail)].recorded_time());
  COOP_RETURN_IF_ERROR(fixture.CreateTopic(topic));
  COOP_ASSIGN_OR_RETURN(const double seconds,
                        ProduceEvents(fixture.kafka(), topic, events, progress));
  progress << absl::StrFormat("  %d events written in %.1f s\n", count, seconds);
  if (results != nullptr) {
    int64_t bytes = 0;
    for (const coop::v1::Event& event : events) bytes += static_cast<int64_t>(event.ByteSizeLong());
    results->produce_records = count;
    results->produce_seconds = seconds;
    results->mean_record_bytes = static_cast<double>(bytes) / static_cast<double>(count);
  }
  events.clear();
  events.shrink_to_fit();
  COOP_ASSIGN_OR_RETURN(history.server, fixture.StartStream(topic));
  return history;
}

absl::StatusOr<std::vector<ReplayRound>> RunReplay(const StreamBenchConfig& config,
                                                   const History& history, pid_t broker_pid,
                                                   std::ostream& progress) {
  std::vector<ReplayRound> rounds;
  for (int32_t r = 1; r <= config.rounds; ++r) {
    ReplayRound round;
    round.round = r;
    round.records = history.events;

    CpuMeter kcat_cpu(0, broker_pid);
    kcat_cpu.Start();
    COOP_ASSIGN_OR_RETURN(const KcatResult kcat,
                          RunKcat(config.kcat, config.bootstrap_servers, history.topic,
                                  absl::StrCat(config.work_dir, "/kcat.log")));
    kcat_cpu.Stop();
    if (kcat.records != history.events) {
      return absl::InternalError(
          absl::StrCat("kcat read ", kcat.records, " records of ", history.events));
    }
    round.kcat_seconds = kcat.wall_seconds;
    round.kcat_cpu_seconds = kcat.cpu_seconds;
    round.kcat_broker_cpu_seconds = kcat_cpu.broker_seconds();
    progress << absl::StrFormat("  round %d kcat: %d records in %.2f s (%.0f/s)\n", r, kcat.records,
                                kcat.wall_seconds, round.kcat_per_second());

    std::shared_ptr<grpc::Channel> channel = ConnectedChannel(history.server->address());
    CpuMeter cpu(history.server->pid(), broker_pid);
    cpu.Start();
    COOP_ASSIGN_OR_RETURN(const ReplayCall call, ReplayOnce(channel, history.first, history.end,
                                                            config.replay_events_per_message));
    cpu.Stop();
    if (call.events != history.events) {
      return absl::InternalError(
          absl::StrCat("Replay delivered ", call.events, " events of ", history.events));
    }
    round.stream_seconds = call.total_seconds;
    round.stream_first_event_seconds = call.first_event_seconds;
    round.stream_server_cpu_seconds = cpu.server_seconds();
    round.stream_client_cpu_seconds = cpu.client_seconds();
    round.stream_broker_cpu_seconds = cpu.broker_seconds();
    progress << absl::StrFormat(
        "  round %d coop-stream Replay: %d events in %.2f s (%.0f/s), %.3f x kcat\n", r,
        call.events, call.total_seconds, round.stream_per_second(), round.ratio());
    rounds.push_back(round);
  }
  return rounds;
}

absl::StatusOr<SeekResult> RunSeek(const StreamBenchConfig& config, const History& small,
                                   const History& large, std::ostream& progress) {
  SeekResult seek;
  seek.small_history = small.events;
  seek.large_history = large.events;
  seek.range_events = std::min(config.seek_range_events, small.events);
  std::shared_ptr<grpc::Channel> small_channel = ConnectedChannel(small.server->address());
  std::shared_ptr<grpc::Channel> large_channel = ConnectedChannel(large.server->address());
  auto call = [&](const History& history,
                  const std::shared_ptr<grpc::Channel>& channel) -> absl::StatusOr<ReplayCall> {
    COOP_ASSIGN_OR_RETURN(ReplayCall replayed, ReplayOnce(channel, history.tail_start, history.end,
                                                          config.replay_events_per_message));
    if (replayed.events != seek.range_events) {
      return absl::InternalError(absl::StrCat("seek on ", history.topic, ": ", replayed.events,
                                              " events; expected ", seek.range_events));
    }
    return replayed;
  };
  // One untimed call each: the first opens metadata and connections in the server.
  COOP_RETURN_IF_ERROR(call(small, small_channel).status());
  COOP_RETURN_IF_ERROR(call(large, large_channel).status());
  for (int32_t i = 0; i < config.seek_calls; ++i) {
    // Alternate which goes first, so that drift on the machine hits both alike.
    for (int k = 0; k < 2; ++k) {
      const bool large_turn = (k == 0) == (i % 2 == 0);
      COOP_ASSIGN_OR_RETURN(const ReplayCall replayed,
                            large_turn ? call(large, large_channel) : call(small, small_channel));
      (large_turn ? seek.large_first : seek.small_first).push_back(replayed.first_event_seconds);
      (large_turn ? seek.large_total : seek.small_total).push_back(replayed.total_seconds);
    }
  }
  progress << absl::StrFormat(
      "  seek: first event after %.1f ms with %d events of history, %.1f ms with %d (medians)\n",
      Median(seek.small_first) * 1e3, small.events, Median(seek.large_first) * 1e3, large.events);
  return seek;
}

}  // namespace

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

absl::Status StreamBenchConfig::Validate() const {
  if (bootstrap_servers.empty()) return absl::InvalidArgumentError("bootstrap_servers: required");
  if (stream_binary.empty()) return absl::InvalidArgumentError("stream_binary: required");
  if (work_dir.empty()) return absl::InvalidArgumentError("work_dir: required");
  if (phases.empty()) return absl::InvalidArgumentError("phases: at least one is required");
  for (const std::string& phase : phases) {
    if (phase != "replay" && phase != "seek" && phase != "fanout") {
      return absl::InvalidArgumentError(
          absl::StrCat("phases: unknown phase '", phase, "' (replay, seek, fanout)"));
    }
  }
  if (events < 1) return absl::InvalidArgumentError("events: must be at least 1");
  if (rounds < 1) return absl::InvalidArgumentError("rounds: must be at least 1");
  if (seek_small_events < 1) {
    return absl::InvalidArgumentError("seek_small_events: must be at least 1");
  }
  if (seek_range_events < 1 || seek_range_events > seek_small_events ||
      seek_range_events > events) {
    return absl::InvalidArgumentError(
        "seek_range_events: must be 1..min(seek_small_events, events)");
  }
  if (seek_calls < 1) return absl::InvalidArgumentError("seek_calls: must be at least 1");
  if (subscribers < 1) return absl::InvalidArgumentError("subscribers: must be at least 1");
  if (selective < 0 || slow < 0 || selective + slow > subscribers) {
    return absl::InvalidArgumentError(
        "selective, slow: must not be negative, and together at most subscribers");
  }
  if (slow_read_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("slow_read_interval: must be positive");
  }
  if (!(rate > 0)) return absl::InvalidArgumentError("rate: must be positive");
  if (fanout_duration < absl::Seconds(1)) {
    return absl::InvalidArgumentError("fanout_duration: must be at least 1s");
  }
  if (drain < absl::ZeroDuration())
    return absl::InvalidArgumentError("drain: must not be negative");
  if (channels < 1) return absl::InvalidArgumentError("channels: must be at least 1");
  if (fanout_events_per_message < 0 || fanout_events_per_message > 1000) {
    return absl::InvalidArgumentError("fanout_events_per_message: must be 0..1000");
  }
  return absl::OkStatus();
}

absl::StatusOr<StreamBenchResults> RunStreamBenchmark(const StreamBenchConfig& config,
                                                      std::ostream& progress) {
  COOP_RETURN_IF_ERROR(config.Validate());
  std::error_code error;
  std::filesystem::create_directories(config.work_dir, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("work_dir ", config.work_dir, ": ", error.message()));
  }
  {
    std::ofstream policy(absl::StrCat(config.work_dir, "/policy.json"));
    policy << kPolicy;
    if (!policy) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot write ", config.work_dir, "/policy.json"));
    }
  }
  COOP_ASSIGN_OR_RETURN(const pid_t broker_pid, ReadPidFile(config.broker_pid_file));

  kafka::KafkaConfig kafka;
  kafka.bootstrap_servers = config.bootstrap_servers;
  kafka.client_id = "coop-stream-bench";
  COOP_ASSIGN_OR_RETURN(std::unique_ptr<kafka::TopicAdmin> admin, kafka::TopicAdmin::Create(kafka));
  Fixture fixture(config, *admin, progress);
  const std::string prefix =
      absl::StrCat("coop-stream-bench-", absl::ToUnixMillis(absl::Now()), "-", getpid());

  StreamBenchResults results;
  const bool replay = config.phases.contains("replay");
  const bool seek = config.phases.contains("seek");
  if (replay || seek) {
    COOP_ASSIGN_OR_RETURN(
        const History large,
        MakeHistory(fixture, prefix + "-history", config.events, config, &results, progress));
    if (replay) {
      progress << "replay: " << config.rounds << " rounds of kcat and coop-stream over "
               << config.events << " events\n";
      COOP_ASSIGN_OR_RETURN(results.replay, RunReplay(config, large, broker_pid, progress));
    }
    if (seek) {
      COOP_ASSIGN_OR_RETURN(const History small,
                            MakeHistory(fixture, prefix + "-short", config.seek_small_events,
                                        config, nullptr, progress));
      progress << "seek: " << config.seek_calls << " calls each for the last "
               << config.seek_range_events << " events\n";
      COOP_ASSIGN_OR_RETURN(results.seek, RunSeek(config, small, large, progress));
      results.seek_ran = true;
      COOP_RETURN_IF_ERROR(fixture.StopStream(small.topic));
    }
    COOP_RETURN_IF_ERROR(fixture.StopStream(large.topic));
  }

  if (config.phases.contains("fanout")) {
    const std::string topic = prefix + "-fanout";
    COOP_RETURN_IF_ERROR(fixture.CreateTopic(topic));
    COOP_ASSIGN_OR_RETURN(StreamProcess * server, fixture.StartStream(topic));
    progress << "fan-out: " << config.subscribers << " subscriptions (" << config.selective
             << " selective, " << config.slow << " slow) at " << config.rate << " events/s for "
             << absl::FormatDuration(config.fanout_duration) << "\n";
    FanoutOptions options;
    options.kafka = fixture.kafka();
    options.topic = topic;
    options.server_address = server->address();
    options.server_pid = server->pid();
    options.broker_pid = broker_pid;
    options.subscribers = config.subscribers;
    options.selective = config.selective;
    options.slow = config.slow;
    options.slow_read_interval = config.slow_read_interval;
    options.rate = config.rate;
    options.duration = config.fanout_duration;
    options.drain = config.drain;
    options.channels = config.channels;
    options.events_per_message = config.fanout_events_per_message;
    COOP_ASSIGN_OR_RETURN(results.fanout, RunFanout(options, progress));
    results.fanout_ran = true;
    COOP_RETURN_IF_ERROR(fixture.StopStream(topic));
  }
  return results;
}

}  // namespace coop::bench
