#include "tools/bench/bench_runner.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/auth/api_key.h"
#include "common/auth/policy.h"
#include "common/kafka/topic_admin.h"
#include "common/status_macros.h"
#include "grpcpp/grpcpp.h"
#include "tools/bench/bench_events.h"
#include "tools/bench/grpc_phases.h"
#include "tools/bench/publisher_process.h"
#include "tools/bench/raw_phase.h"

namespace coop::bench {
namespace {

constexpr char kPrincipal[] = "bench";
constexpr absl::Duration kKafkaTimeout = absl::Seconds(30);
constexpr absl::Duration kStartTimeout = absl::Seconds(60);
constexpr absl::Duration kStopTimeout = absl::Seconds(60);

// Two letters per phase keep event ids, hence event sizes, equal across phases.
std::string PhaseCode(absl::string_view phase) {
  if (phase == "raw") return "rw";
  if (phase == "stream") return "st";
  if (phase == "unary") return "un";
  if (phase == "unary_half") return "uh";
  return "rh";  // raw_half
}

std::string RandomHex(size_t bytes) {
  std::random_device random;
  std::string hex;
  for (size_t i = 0; i < bytes; ++i)
    absl::StrAppend(&hex, absl::Hex(random() & 0xff, absl::kZeroPad2));
  return hex;
}

pid_t ReadPidFile(const std::string& path) {
  if (path.empty()) return 0;
  std::ifstream file(path);
  std::string text;
  std::getline(file, text);
  int pid = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &pid)) return 0;
  return pid;
}

// Everything the phases of a run share.
class Bench {
 public:
  Bench(const BenchConfig& config, std::ostream& progress) : config_(config), progress_(progress) {}

  absl::Status SetUp() {
    char dir_template[] = "/tmp/coop-publish-bench-XXXXXX";
    if (mkdtemp(dir_template) == nullptr) return absl::InternalError("mkdtemp failed");
    work_dir_ = dir_template;
    api_key_ = RandomHex(32);
    const std::string policy = absl::StrCat(
        R"({"principals": [{"id": ")", kPrincipal,
        R"(", "display_name": "Publisher benchmark", "api_key_sha256_hashes": [")",
        auth::Sha256Hex(api_key_), R"("], "publish": {"event_types": ["*"], "regions": ["*"]}}]})");
    COOP_RETURN_IF_ERROR(auth::Policy::Parse(policy).status());
    policy_file_ = absl::StrCat(work_dir_, "/policy.json");
    std::ofstream file(policy_file_);
    file << policy;
    file.close();
    if (!file) return absl::InternalError(absl::StrCat("cannot write ", policy_file_));

    kafka_.bootstrap_servers = config_.bootstrap_servers;
    kafka_.client_id = "coop-publish-bench";
    COOP_ASSIGN_OR_RETURN(admin_, kafka::TopicAdmin::Create(kafka_));
    // Publishers that serve metrics would all take the same default port: switch it off.
    COOP_ASSIGN_OR_RETURN(const bool has_metrics,
                          BinaryHasFlag(config_.publisher_binary, "metrics_listen"));
    if (has_metrics) publisher_flags_.push_back("--metrics_listen=");
    publisher_flags_.push_back(absl::StrCat("--kafka_property=linger.ms=", config_.linger_ms));
    publisher_flags_.insert(publisher_flags_.end(), config_.publisher_flags.begin(),
                            config_.publisher_flags.end());
    broker_pid_ = ReadPidFile(config_.broker_pid_file);
    if (!config_.broker_pid_file.empty() && broker_pid_ == 0) {
      progress_ << "note: no pid in " << config_.broker_pid_file << "; broker CPU not measured\n";
    }
    run_id_ = absl::StrFormat("%d-%d", getpid(), absl::ToUnixSeconds(absl::Now()));
    return absl::OkStatus();
  }

  // Removes the work directory (policy, logs); kept after a failed phase for its logs.
  void CleanUp() {
    if (!work_dir_.empty()) std::filesystem::remove_all(work_dir_);
  }
  const std::string& work_dir() const { return work_dir_; }
  bool started_publisher() const { return started_publisher_; }

  absl::StatusOr<EventFactory> Events(int32_t round, absl::string_view phase) const {
    return EventFactory::Create(absl::StrCat("publishers/", kPrincipal),
                                absl::StrFormat("%02d%s", round, PhaseCode(phase)),
                                static_cast<size_t>(config_.event_bytes));
  }

  absl::StatusOr<PhaseResult> Raw(int32_t round, absl::string_view phase, int64_t events,
                                  double rate) {
    COOP_ASSIGN_OR_RETURN(const EventFactory factory, Events(round, phase));
    COOP_ASSIGN_OR_RETURN(const std::string topic, CreateTopic(round, phase));
    absl::StatusOr<PhaseResult> result =
        RunRawPhase({.bootstrap_servers = config_.bootstrap_servers,
                     .topic = topic,
                     .events = events,
                     .max_outstanding = config_.raw_max_outstanding,
                     .rate = rate,
                     .broker_pid = broker_pid_,
                     .linger_ms = config_.linger_ms},
                    factory);
    DeleteTopic(topic);
    return Named(std::move(result), phase);
  }

  // Runs `phase` against a coop-publisher started for it on a fresh topic.
  absl::StatusOr<PhaseResult> WithPublisher(
      int32_t round, absl::string_view phase,
      const std::function<PhaseResult(const GrpcClient&, const EventFactory&, CpuMeter&)>& run) {
    COOP_ASSIGN_OR_RETURN(const EventFactory factory, Events(round, phase));
    COOP_ASSIGN_OR_RETURN(const std::string topic, CreateTopic(round, phase));
    absl::StatusOr<PhaseResult> result = RunPublisher(round, phase, topic, factory, run);
    DeleteTopic(topic);
    return Named(std::move(result), phase);
  }

 private:
  absl::StatusOr<std::string> CreateTopic(int32_t round, absl::string_view phase) {
    const std::string topic = absl::StrCat("coop-bench-", run_id_, "-r", round, "-", phase);
    COOP_RETURN_IF_ERROR(admin_->EnsureTopics(
        {kafka::TopicSpec{
            .name = topic, .partitions = config_.partitions, .replication_factor = 1}},
        kKafkaTimeout));
    return topic;
  }

  void DeleteTopic(const std::string& topic) {
    if (absl::Status deleted = admin_->DeleteTopic(topic, kKafkaTimeout); !deleted.ok()) {
      progress_ << "warning: topic " << topic << " not deleted: " << deleted << "\n";
    }
  }

  absl::StatusOr<PhaseResult> RunPublisher(
      int32_t round, absl::string_view phase, const std::string& topic, const EventFactory& factory,
      const std::function<PhaseResult(const GrpcClient&, const EventFactory&, CpuMeter&)>& run) {
    COOP_ASSIGN_OR_RETURN(
        std::unique_ptr<PublisherProcess> server,
        StartPublisher({
            .binary = config_.publisher_binary,
            .bootstrap_servers = config_.bootstrap_servers,
            .events_topic = topic,
            .policy_file = policy_file_,
            .instance_id = topic,
            .log_file = absl::StrCat(work_dir_, "/publisher-r", round, "-", phase, ".log"),
            .extra_flags = publisher_flags_,
        }));
    started_publisher_ = true;
    // A channel of its own per phase: a fresh connection to a fresh server.
    grpc::ChannelArguments arguments;
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    std::unique_ptr<coop::v1::Publisher::Stub> stub =
        coop::v1::Publisher::NewStub(grpc::CreateCustomChannel(
            server->address(), grpc::InsecureChannelCredentials(), arguments));
    const GrpcClient client{.stub = stub.get(), .api_key = api_key_};
    COOP_RETURN_IF_ERROR(WaitUntilServing(client, factory, *server, kStartTimeout));
    CpuMeter cpu(server->pid(), broker_pid_);
    PhaseResult result = run(client, factory, cpu);
    COOP_RETURN_IF_ERROR(server->Stop(kStopTimeout));
    return result;
  }

  absl::StatusOr<PhaseResult> Named(absl::StatusOr<PhaseResult> result, absl::string_view phase) {
    if (!result.ok()) {
      return absl::Status(result.status().code(),
                          absl::StrCat("phase ", phase, ": ", result.status().message()));
    }
    result->phase = std::string(phase);
    auto per_million = [&result](double cpu_seconds) {
      const double value = result->PerMillion(cpu_seconds);
      return value < 0 ? std::string("-") : absl::StrFormat("%.1f s", value);
    };
    progress_ << absl::StrFormat(
        "  %-10s %8d events %9.0f ev/s  p50 %7.2f ms  p99 %8.2f ms  CPU per 1M events: client %s, "
        "server %s, broker %s%s\n",
        phase, result->events, result->events_per_second(), result->p50_ms, result->p99_ms,
        per_million(result->client_cpu_seconds), per_million(result->server_cpu_seconds),
        per_million(result->broker_cpu_seconds),
        result->errors == 0
            ? ""
            : absl::StrCat("  ERRORS ", result->errors, " (first: ", result->first_error, ")"));
    progress_.flush();
    return result;
  }

  const BenchConfig& config_;
  std::ostream& progress_;
  std::string work_dir_;
  std::string api_key_;
  std::string policy_file_;
  std::string run_id_;
  std::vector<std::string> publisher_flags_;
  kafka::KafkaConfig kafka_;
  std::unique_ptr<kafka::TopicAdmin> admin_;
  pid_t broker_pid_ = 0;
  bool started_publisher_ = false;  // Whether work_dir_ holds publisher logs.
};

absl::Status RunRound(Bench& bench, const BenchConfig& config, RoundResult& round) {
  auto selected = [&config](absl::string_view phase) {
    return std::find(config.phases.begin(), config.phases.end(), phase) != config.phases.end();
  };
  const int32_t r = round.round;
  if (selected("raw")) {
    COOP_ASSIGN_OR_RETURN(PhaseResult raw, bench.Raw(r, "raw", config.events, 0));
    round.phases.push_back(std::move(raw));
  }
  if (selected("stream")) {
    const StreamPhaseOptions options{
        .events = config.events, .streams = config.stream_count, .window = config.stream_window};
    COOP_ASSIGN_OR_RETURN(
        PhaseResult stream,
        bench.WithPublisher(
            r, "stream",
            [&options](const GrpcClient& client, const EventFactory& events, CpuMeter& cpu) {
              return RunStreamPhase(client, events, options, cpu);
            }));
    round.phases.push_back(std::move(stream));
  }
  if (selected("unary")) {
    const UnaryPhaseOptions options{.events = config.events, .callers = config.unary_callers};
    COOP_ASSIGN_OR_RETURN(
        PhaseResult unary,
        bench.WithPublisher(
            r, "unary",
            [&options](const GrpcClient& client, const EventFactory& events, CpuMeter& cpu) {
              return RunUnaryPhase(client, events, options, cpu);
            }));
    round.phases.push_back(std::move(unary));
  }
  if (selected("unary_half")) {
    double rate = config.half_rate;
    if (rate <= 0) {
      const PhaseResult* unary = round.Find("unary");
      if (unary == nullptr || unary->events_per_second() <= 0) {
        return absl::FailedPreconditionError(
            "unary_half needs the unary phase in the same round, or --half_rate");
      }
      rate = unary->events_per_second() / 2;
    }
    const int64_t events = std::clamp<int64_t>(
        static_cast<int64_t>(rate * absl::ToDoubleSeconds(config.paced_duration)), 1000,
        config.events);
    const UnaryPhaseOptions options{.events = events, .rate = rate};
    COOP_ASSIGN_OR_RETURN(
        PhaseResult unary_half,
        bench.WithPublisher(
            r, "unary_half",
            [&options](const GrpcClient& client, const EventFactory& events, CpuMeter& cpu) {
              return RunUnaryPhase(client, events, options, cpu);
            }));
    round.phases.push_back(std::move(unary_half));
    COOP_ASSIGN_OR_RETURN(PhaseResult raw_half, bench.Raw(r, "raw_half", events, rate));
    round.phases.push_back(std::move(raw_half));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status BenchConfig::Validate() const {
  if (publisher_binary.empty() || access(publisher_binary.c_str(), X_OK) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("publisher_binary: '", publisher_binary, "' is not an executable"));
  }
  if (events < 1) return absl::InvalidArgumentError("events: must be at least 1");
  if (unary_callers < 1) return absl::InvalidArgumentError("unary_callers: must be at least 1");
  if (rounds < 1) return absl::InvalidArgumentError("rounds: must be at least 1");
  if (stream_count < 1) return absl::InvalidArgumentError("stream_count: must be at least 1");
  if (stream_window < 1) return absl::InvalidArgumentError("stream_window: must be at least 1");
  if (raw_max_outstanding < 1) {
    return absl::InvalidArgumentError("raw_max_outstanding: must be at least 1");
  }
  if (half_rate < 0) return absl::InvalidArgumentError("half_rate: must not be negative");
  if (phases.empty()) return absl::InvalidArgumentError("phases: none given");
  for (const std::string& phase : phases) {
    if (std::find(std::begin(kPhases), std::end(kPhases), phase) == std::end(kPhases)) {
      return absl::InvalidArgumentError(absl::StrCat("phases: unknown phase '", phase,
                                                     "'; known: ", absl::StrJoin(kPhases, ",")));
    }
  }
  const bool paced = std::find(phases.begin(), phases.end(), "unary_half") != phases.end();
  const bool unary = std::find(phases.begin(), phases.end(), "unary") != phases.end();
  if (paced && !unary && half_rate == 0) {
    return absl::InvalidArgumentError("phases: unary_half needs unary, or --half_rate");
  }
  return absl::OkStatus();
}

const PhaseResult* RoundResult::Find(const std::string& phase) const {
  for (const PhaseResult& result : phases) {
    if (result.phase == phase) return &result;
  }
  return nullptr;
}

absl::StatusOr<BenchResults> RunBenchmark(const BenchConfig& config, std::ostream& progress) {
  COOP_RETURN_IF_ERROR(config.Validate());
  Bench bench(config, progress);
  BenchResults results;
  {
    COOP_ASSIGN_OR_RETURN(const EventFactory events, bench.Events(1, "raw"));
    results.event_bytes = events.stamped_bytes();
  }
  if (absl::Status set_up = bench.SetUp(); !set_up.ok()) {
    bench.CleanUp();
    return set_up;
  }
  for (int32_t r = 1; r <= config.rounds; ++r) {
    progress << "round " << r << " of " << config.rounds << "\n";
    RoundResult round{.round = r};
    if (absl::Status status = RunRound(bench, config, round); !status.ok()) {
      std::string where;
      if (bench.started_publisher()) {
        where = absl::StrCat(" (publisher logs kept in ", bench.work_dir(), ")");
      } else {
        bench.CleanUp();
      }
      return absl::Status(status.code(), absl::StrCat("round ", r, ": ", status.message(), where));
    }
    results.rounds.push_back(std::move(round));
  }
  bench.CleanUp();
  return results;
}

}  // namespace coop::bench
