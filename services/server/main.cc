// coop-server: hosts any subset of coopstream's roles in one process, chosen with --roles:
// publisher (coop.v1.Publisher), stream (coop.v1.Subscriptions) and views (coop.v1.Views).
// One process with every role for a single machine; one process per role (or any mix) for a
// cluster. coop-publisher, coop-stream and coop-views are this program built with one role.
//
// Reads flags, creates the roles, serves them (common/server/server_runner.h) until SIGTERM or
// SIGINT, then shuts down gracefully: no new calls, calls in flight answered, producers
// flushed, the views' batch in hand committed, exit 0. All logic lives in the libraries.
#include <algorithm>
#include <csignal>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/security_flags.h"
#include "common/auth/server_security.h"
#include "common/server/server_runner.h"
#include "consumers/views/views_role.h"
#include "services/publisher/publisher_role.h"
#include "services/stream/stream_role.h"
#include "spdlog/spdlog.h"

// COOP_SERVER_ROLE: set when built as a one-role program (coop-publisher, ...): that role only.
#ifdef COOP_SERVER_ROLE
#define COOP_DEFAULT_ROLES COOP_SERVER_ROLE
#else
#define COOP_DEFAULT_ROLES "publisher,stream,views"
#endif

// Where the roles listen.
ABSL_FLAG(std::vector<std::string>, roles,
          std::vector<std::string>(absl::StrSplit(COOP_DEFAULT_ROLES, ',')),
          "The roles to host: publisher, stream, views (any subset, comma-separated)");
ABSL_FLAG(std::string, listen, "",
          "gRPC address (host:port) of every hosted role; empty: each on its own "
          "--<role>_listen");
ABSL_FLAG(std::string, publisher_listen, "127.0.0.1:50051", "gRPC address of the publisher");
ABSL_FLAG(std::string, stream_listen, "127.0.0.1:50053", "gRPC address of the stream role");
ABSL_FLAG(std::string, views_listen, "127.0.0.1:50052", "gRPC address of the views");
ABSL_FLAG(std::string, metrics_listen, "per-role",
          "HTTP address (host:port) serving /metrics for every hosted role, or empty for no "
          "metrics; per-role: each role on its --<role>_metrics_listen");
ABSL_FLAG(std::string, publisher_metrics_listen, "127.0.0.1:9464",
          "/metrics of the publisher; empty: none");
ABSL_FLAG(std::string, stream_metrics_listen, "127.0.0.1:9466",
          "/metrics of the stream role; empty: none");
ABSL_FLAG(std::string, views_metrics_listen, "127.0.0.1:9465",
          "/metrics of the views; empty: none");

// Every role.
ABSL_FLAG(std::string, bootstrap_servers, "127.0.0.1:9092", "Kafka brokers, host:port,...");
ABSL_FLAG(std::vector<std::string>, kafka_property, {},
          "librdkafka properties name=value,... (e.g. security.protocol=SASL_SSL)");
ABSL_FLAG(std::string, events_topic, "coop.events", "The event log topic");
ABSL_FLAG(absl::Duration, settle_delay, absl::Seconds(60),
          "How old an instant must be to be final: a replay's end_time must be at least this "
          "far in the past (stream); as_of answers older than this are final and cached (views)");
ABSL_FLAG(int, max_threads, 64,
          "Synchronous calls (views queries, replays) each gRPC server serves at once, at most "
          "(each holds a thread)");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(30),
          "How long shutdown waits for calls in flight");

// publisher
ABSL_FLAG(std::string, instance_id, "publisher-1",
          "publisher: stable id of this instance, unique among instances (Kafka transactional "
          "id)");
ABSL_FLAG(absl::Duration, dedup_window, absl::Hours(24 * 7),
          "publisher: retries of an event id within this window are answered from the log");
ABSL_FLAG(absl::Duration, delivery_timeout, absl::Seconds(30),
          "publisher: how long Kafka may take to confirm a record");
ABSL_FLAG(bool, cross_instance_dedup, true,
          "publisher: read the log to its end before answering 'not seen', so that events other "
          "instances acknowledged are duplicates here too; false only when one instance writes "
          "the topic");

// stream
ABSL_FLAG(int64_t, ring_mib, 64, "stream: memory of the shared ring of recent records, in MiB");
ABSL_FLAG(int64_t, ring_records, 200000, "stream: records the shared ring holds, at most");
ABSL_FLAG(int, catchup_slots, 8, "stream: Kafka readers serving subscriptions that read history");
ABSL_FLAG(absl::Duration, catchup_wait, absl::Seconds(5),
          "stream: how long a subscription waits for a catch-up reader before "
          "RESOURCE_EXHAUSTED");
ABSL_FLAG(int, max_streams_per_principal, 2000,
          "stream: open subscriptions per principal, at most");
ABSL_FLAG(int, max_replays, 4, "stream: replays running at once, at most");

// views
ABSL_FLAG(std::string, dead_letter_topic, "coop.events.dlq",
          "views: where records that cannot be applied go");
ABSL_FLAG(std::string, sqlite_dir, ".data/views",
          "views: directory of the SQLite views (used unless --postgres_url is set)");
ABSL_FLAG(std::string, postgres_url, "",
          "views: PostgreSQL connection string or postgresql:// URL: the shared store for "
          "several instances and for analysts");
ABSL_FLAG(std::string, group_prefix, "coop-views",
          "views: Kafka consumer groups of the PostgreSQL instances are "
          "{prefix}-g{generation}");
ABSL_FLAG(int, max_batch_records, 5000, "views: events applied per database transaction");
ABSL_FLAG(bool, skip_missing_records, false,
          "views: read on from the first record left when records at a stored position were "
          "deleted from the log (the views then lack them); by default the consumer stops with "
          "DATA_LOSS");

namespace {

// The roles, each with the flags only it reads; giving one for a role not hosted is an error,
// not a no-op. Each role has --<role>_listen and --<role>_metrics_listen.
const std::vector<std::pair<std::string, std::vector<std::string>>>& RoleFlags() {
  static const auto* flags = new std::vector<std::pair<std::string, std::vector<std::string>>>{
      {"publisher",
       {"publisher_listen", "publisher_metrics_listen", "instance_id", "dedup_window",
        "delivery_timeout", "cross_instance_dedup"}},
      {"stream",
       {"stream_listen", "stream_metrics_listen", "ring_mib", "ring_records", "catchup_slots",
        "catchup_wait", "max_streams_per_principal", "max_replays"}},
      {"views",
       {"views_listen", "views_metrics_listen", "dead_letter_topic", "sqlite_dir", "postgres_url",
        "group_prefix", "max_batch_records", "skip_missing_records"}},
  };
  return *flags;
}

// The command line, for Given().
std::vector<std::string>& CommandLine() {
  static auto* args = new std::vector<std::string>();
  return *args;
}

// Whether `flag` was set: given on the command line (even with its default value), or given a
// value other than its default anywhere (a --flagfile too).
bool Given(absl::string_view flag) {
  for (const std::string& arg : CommandLine()) {
    if (arg == "--") break;
    absl::string_view name = arg;
    if (!absl::ConsumePrefix(&name, "--") && !absl::ConsumePrefix(&name, "-")) continue;
    name = name.substr(0, name.find('='));
    if (name == flag || name == absl::StrCat("no", flag)) return true;
  }
  const absl::CommandLineFlag* found = absl::FindCommandLineFlag(flag);
  return found != nullptr && found->CurrentValue() != found->DefaultValue();
}

// The value of the string flag `name`, e.g. "publisher_listen".
std::string StringFlag(const std::string& name) {
  return absl::FindCommandLineFlag(name)->CurrentValue();
}

// The hosted roles, checked: known, not repeated, and no flag of a role left out.
absl::StatusOr<std::set<std::string>> HostedRoles() {
  std::vector<std::string> known;
  for (const auto& [role, flags] : RoleFlags()) known.push_back(role);
  std::set<std::string> roles;
  for (const std::string& role : absl::GetFlag(FLAGS_roles)) {
    if (std::find(known.begin(), known.end(), role) == known.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--roles: '", role, "' is not a role (", absl::StrJoin(known, ", "), ")"));
    }
    if (!roles.insert(role).second) {
      return absl::InvalidArgumentError(absl::StrCat("--roles: '", role, "' given twice"));
    }
  }
  if (roles.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--roles: name at least one of ", absl::StrJoin(known, ", ")));
  }
#ifdef COOP_SERVER_ROLE
  if (Given("roles")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--roles: this program hosts the ", COOP_SERVER_ROLE, " role only; coop-server hosts any"));
  }
#endif
  for (const auto& [role, flags] : RoleFlags()) {
    if (roles.contains(role)) continue;
    for (const std::string& flag : flags) {
      if (Given(flag)) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", flag, ": a flag of the ", role,
                         " role, which --roles=", absl::StrJoin(roles, ","), " does not host"));
      }
    }
  }
  return roles;
}

int Fail(const absl::Status& status) {
  spdlog::critical("cannot start: {}", status.ToString());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
#ifdef COOP_SERVER_ROLE
  absl::SetProgramUsageMessage(
      absl::StrCat("--policy=FILE [flags]: coop-server with the ", COOP_SERVER_ROLE,
                   " role only (the flags of the other roles, listed too, are refused)"));
#else
  absl::SetProgramUsageMessage(
      "[--roles=publisher,stream,views] --policy=FILE [flags]: coopstream's gRPC services — "
      "publisher, stream (subscriptions and replay) and views — in one process");
#endif
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "services/server/") ||
           absl::StrContains(file, "common/auth/security_flags");
  };
  absl::SetFlagsUsageConfig(usage);
  CommandLine().assign(argv + 1, argv + argc);
  absl::ParseCommandLine(argc, argv);
  // Debian's Abseil checks every Mutex acquisition for lock-order cycles, a debugging aid that
  // costs on the hot path; our lock order is simple and covered by the sanitizer build.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);

  // SIGTERM/SIGINT are taken by sigwait in RunServers; block them in every thread started later.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<std::set<std::string>> roles = HostedRoles();
  if (!roles.ok()) return Fail(roles.status());
  // A list flag given twice keeps only its last value: refuse rather than drop properties.
  if (const int given = static_cast<int>(std::count_if(
          CommandLine().begin(), CommandLine().end(),
          [](const std::string& arg) { return absl::StartsWith(arg, "--kafka_property="); }));
      given > 1) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        "--kafka_property: given ", given,
        " times, but only the last would count; give every property in one, comma-separated")));
  }
  if (absl::GetFlag(FLAGS_max_threads) < 1) {
    return Fail(absl::InvalidArgumentError("--max_threads: must be at least 1"));
  }

  coop::kafka::KafkaConfig kafka;
  kafka.bootstrap_servers = absl::GetFlag(FLAGS_bootstrap_servers);
  if (absl::Status added = kafka.AddProperties(absl::GetFlag(FLAGS_kafka_property)); !added.ok()) {
    return Fail(added);
  }
  const std::string topic = absl::GetFlag(FLAGS_events_topic);

  absl::StatusOr<coop::auth::ServerSecurity> security =
      coop::auth::LoadServerSecurity(coop::auth::ServerSecurityOptionsFromFlags());
  if (!security.ok()) return Fail(security.status());

  // The roles, in the order they go up; they go down in reverse.
  std::vector<std::unique_ptr<coop::server::Role>> hosted;
  if (roles->contains("publisher")) {
    coop::publisher::EventPublisherConfig config;
    config.kafka = kafka;
    config.kafka.client_id = absl::StrCat("coop-publisher-", absl::GetFlag(FLAGS_instance_id));
    config.events_topic = topic;
    config.instance_id = absl::GetFlag(FLAGS_instance_id);
    config.dedup_window = absl::GetFlag(FLAGS_dedup_window);
    config.delivery_timeout = absl::GetFlag(FLAGS_delivery_timeout);
    config.cross_instance_dedup = absl::GetFlag(FLAGS_cross_instance_dedup);
    absl::StatusOr<std::unique_ptr<coop::publisher::PublisherRole>> role =
        coop::publisher::PublisherRole::Create(config, security->authenticator);
    if (!role.ok()) return Fail(role.status());
    hosted.push_back(*std::move(role));
  }
  if (roles->contains("views")) {
    coop::views::ViewsEngineOptions options;
    options.consumer.kafka = kafka;
    options.consumer.topic = topic;
    options.consumer.dead_letter_topic = absl::GetFlag(FLAGS_dead_letter_topic);
    options.consumer.max_batch_records = absl::GetFlag(FLAGS_max_batch_records);
    options.consumer.skip_missing_records = absl::GetFlag(FLAGS_skip_missing_records);
    options.sqlite_dir = absl::GetFlag(FLAGS_sqlite_dir);
    options.postgres_url = absl::GetFlag(FLAGS_postgres_url);
    options.group_prefix = absl::GetFlag(FLAGS_group_prefix);
    options.settle_delay = absl::GetFlag(FLAGS_settle_delay);
    absl::StatusOr<std::unique_ptr<coop::views::ViewsRole>> role =
        coop::views::ViewsRole::Create(std::move(options), security->authenticator);
    if (!role.ok()) return Fail(role.status());
    hosted.push_back(*std::move(role));
  }
  if (roles->contains("stream")) {
    coop::stream::StreamRoleOptions options;
    options.kafka = kafka;
    options.topic = topic;
    options.ring_bytes = static_cast<size_t>(std::max<int64_t>(absl::GetFlag(FLAGS_ring_mib), 0))
                         << 20;
    options.ring_records =
        static_cast<size_t>(std::max<int64_t>(absl::GetFlag(FLAGS_ring_records), 0));
    options.catchup_slots = absl::GetFlag(FLAGS_catchup_slots);
    options.catchup_wait = absl::GetFlag(FLAGS_catchup_wait);
    options.max_streams_per_principal = absl::GetFlag(FLAGS_max_streams_per_principal);
    options.settle_delay = absl::GetFlag(FLAGS_settle_delay);
    options.max_replays = absl::GetFlag(FLAGS_max_replays);
    absl::StatusOr<std::unique_ptr<coop::stream::StreamRole>> role =
        coop::stream::StreamRole::Create(std::move(options), security->authenticator);
    if (!role.ok()) return Fail(role.status());
    hosted.push_back(*std::move(role));
  }

  std::vector<coop::server::Placement> placements;
  for (const std::unique_ptr<coop::server::Role>& role : hosted) {
    const std::string name = role->name();
    coop::server::Placement placement{.role = role.get()};
    placement.listen = !absl::GetFlag(FLAGS_listen).empty() ? absl::GetFlag(FLAGS_listen)
                                                            : StringFlag(name + "_listen");
    if (placement.listen.empty()) {
      return Fail(absl::InvalidArgumentError(absl::StrCat("--", name, "_listen: empty")));
    }
    placement.metrics_listen = absl::GetFlag(FLAGS_metrics_listen) != "per-role"
                                   ? absl::GetFlag(FLAGS_metrics_listen)
                                   : StringFlag(name + "_metrics_listen");
    placements.push_back(placement);
  }

  coop::server::RunOptions options{.credentials = security->credentials,
                                   .max_threads = absl::GetFlag(FLAGS_max_threads),
                                   .shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace)};
  if (absl::Status served = coop::server::RunServers(placements, options, signals); !served.ok()) {
    return Fail(served);
  }
  while (!hosted.empty()) hosted.pop_back();
  spdlog::info("stopped");
  return 0;
}
