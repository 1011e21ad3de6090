// coopctl: the command-line tool for coopstream operators.
//
//   coopctl topics ensure   [flags]   create the event log and dead-letter topics if missing
//   coopctl topics describe TOPIC     show partitions, replicas and configs of a topic
//   coopctl publish FILE...           publish the events of JSON or YAML files (- is stdin)
//   coopctl subscribe [flags]         print a live subscription (filters, start, --count)
//   coopctl replay --from=T --to=T    a time range as JSON lines, with the record digest
//   coopctl views VIEW [ID] [flags]   a view as a table or JSON lines; rebuild; --as_of
//   coopctl health                    is Kafka up, and is each service serving?
//
// Exit codes: 0 done; 1 the operation failed (message on stderr); 2 bad command line; 3 bad
// input (a file that cannot be read or parsed, or an event the service finds invalid).
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/kafka/event_topics.h"
#include "common/kafka/kafka_config.h"
#include "tools/coopctl/connection.h"
#include "tools/coopctl/health_command.h"
#include "tools/coopctl/publish_command.h"
#include "tools/coopctl/replay_command.h"
#include "tools/coopctl/subscribe_command.h"
#include "tools/coopctl/topics_command.h"
#include "tools/coopctl/views_command.h"

ABSL_FLAG(std::string, bootstrap_servers, "127.0.0.1:9092", "Kafka brokers, host:port,...");
ABSL_FLAG(std::vector<std::string>, kafka_property, {},
          "librdkafka properties as name=value,name=value (e.g. security.protocol=SASL_SSL)");
ABSL_FLAG(std::string, events_topic, "coop.events", "Name of the event log topic");
ABSL_FLAG(std::string, dead_letter_topic, "coop.events.dlq", "Name of the dead-letter topic");
ABSL_FLAG(int32_t, partitions, 6, "Partitions of each topic");
ABSL_FLAG(int32_t, replication_factor, 1, "Replicas of each partition (3 on a cluster)");
ABSL_FLAG(int32_t, min_insync_replicas, 1,
          "Replicas that must hold a record before it is acknowledged (2 on a cluster)");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(30),
          "How long to wait for Kafka, and for each call to a service");
ABSL_FLAG(std::string, publisher, "127.0.0.1:50051", "Address of the publisher service");
ABSL_FLAG(std::string, token, "",
          "API key sent as 'authorization: Bearer <token>' (prefer --token_file)");
ABSL_FLAG(std::string, token_file, "", "File holding the API key (surrounding blanks trimmed)");
ABSL_FLAG(bool, tls, false, "Connect with TLS, trusting the system's CAs unless --tls_ca");
ABSL_FLAG(std::string, tls_ca, "", "PEM of the CA that signed the server's certificate");
ABSL_FLAG(std::string, tls_cert, "", "PEM client certificate for mutual TLS (with --tls_key)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(bool, json, false, "Print results as JSON lines instead of text");
ABSL_FLAG(std::string, stream, "127.0.0.1:50053", "Address of the stream service");
ABSL_FLAG(std::string, start, "latest",
          "subscribe: where to start: latest, earliest, cursor:<token> or time:<RFC 3339>");
ABSL_FLAG(int64_t, count, 0, "subscribe: stop after this many events (0: until Ctrl-C)");
ABSL_FLAG(std::vector<std::string>, types, {},
          "subscribe: payload types, e.g. coop.v1.HubMilestone,coop.v1.TradeUpdate");
ABSL_FLAG(std::vector<std::string>, subjects, {}, "subscribe: exact subjects");
ABSL_FLAG(std::vector<std::string>, subject_prefixes, {},
          "subscribe: subject prefixes, e.g. hub/,agreement/");
ABSL_FLAG(std::vector<std::string>, regions, {},
          "subscribe: region codes (a country covers its subdivisions), e.g. KZ,RU-MOS");
ABSL_FLAG(std::vector<std::string>, party_ids, {},
          "subscribe, replay: party ids named by the events");
ABSL_FLAG(std::string, from, "", "replay: start of the range, inclusive (RFC 3339)");
ABSL_FLAG(std::string, to, "", "replay: end of the range, exclusive (RFC 3339)");
ABSL_FLAG(std::string, output, "", "replay: write the JSON lines to this file (default stdout)");
ABSL_FLAG(std::string, views, "127.0.0.1:50052", "Address of the views service");
ABSL_FLAG(int64_t, limit, 0, "views: rows at most (0: all)");
ABSL_FLAG(std::string, as_of, "",
          "views: answer as the view was at this instant (RFC 3339; not the timeline)");
ABSL_FLAG(std::string, min_position, "",
          "views: first wait until the view has applied this cursor (base64, e.g. a publish "
          "token)");
ABSL_FLAG(std::string, region, "",
          "views agreements, hubs, trade: only rows of this region code (a country covers its "
          "subdivisions)");
ABSL_FLAG(std::string, party_id, "", "views agreements, hubs: only rows with this party");
ABSL_FLAG(std::string, hub_id, "", "views agreements: only agreements about this hub");
ABSL_FLAG(std::string, status, "",
          "views agreements: signed, in_force, ...; views hubs: planned, under_construction, ...");
ABSL_FLAG(std::string, area, "", "views agreements: a cooperation area, e.g. logistics");
ABSL_FLAG(std::string, kind, "", "views hubs: a hub kind, e.g. logistics");
ABSL_FLAG(std::string, direction, "", "views trade: export, import or turnover");
ABSL_FLAG(std::string, hs_code_prefix, "", "views trade: HS code prefix (2..6 digits)");
ABSL_FLAG(std::string, category_name, "", "views trade: exact category name");
ABSL_FLAG(std::string, country, "", "views regions: a country code; it and its subdivisions");
ABSL_FLAG(bool, wait, false, "views rebuild: wait until the new generation serves");
ABSL_FLAG(std::vector<std::string>, check,
          std::vector<std::string>({"kafka", "publisher", "views", "stream"}),
          "health: the parts to check (kafka, publisher, views, stream)");

namespace {

constexpr char kUsage[] =
    "coopctl COMMAND [flags]\n"
    "  topics ensure          create the event log and dead-letter topics if missing\n"
    "  topics describe TOPIC  show partitions, replicas and configs of a topic\n"
    "  publish FILE...        publish the events of JSON (.json, .jsonl) or YAML files, in the\n"
    "                         Protobuf JSON mapping of coop.v1.Event; - reads standard input\n"
    "  subscribe              print live events (--start, --count, --types, --subjects,\n"
    "                         --subject_prefixes, --regions, --party_ids, --json); Ctrl-C stops\n"
    "                         and prints the cursor to resume from\n"
    "  replay                 the events recorded in [--from, --to) as JSON lines (--output),\n"
    "                         then a summary line with the record digest; same filters\n"
    "  views VIEW [ID]        a view as a table (or --json lines): agreements, agreement ID,\n"
    "                         hubs, hub ID, trade, regions, region CODE, timeline; filters\n"
    "                         --region, --status, ...; --as_of=T; --min_position=CURSOR\n"
    "  views rebuild          rebuild every view from the log (--wait); views rebuild-status\n"
    "  health                 check Kafka and each service (--check=kafka,publisher,...)\n"
    "Exit codes: 0 done, 1 failed, 2 bad command line, 3 bad input. --help lists the flags.";

// The connection flags of the commands that call a service.
absl::StatusOr<coop::ctl::ConnectionOptions> ConnectionFromFlags(const std::string& address) {
  coop::ctl::ConnectionOptions options;
  options.address = address;
  options.token = absl::GetFlag(FLAGS_token);
  if (const std::string path = absl::GetFlag(FLAGS_token_file); !path.empty()) {
    if (!options.token.empty()) {
      return absl::InvalidArgumentError("--token and --token_file: give one of them");
    }
    std::ifstream file(path);
    std::stringstream text;
    if (!file || !(text << file.rdbuf())) {
      return absl::InvalidArgumentError(absl::StrCat("--token_file: cannot read ", path));
    }
    options.token = std::string(absl::StripAsciiWhitespace(text.str()));
  }
  options.tls = absl::GetFlag(FLAGS_tls);
  options.tls_ca = absl::GetFlag(FLAGS_tls_ca);
  options.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key = absl::GetFlag(FLAGS_tls_key);
  options.timeout = absl::GetFlag(FLAGS_timeout);
  return options;
}

std::atomic<bool> interrupted{false};

extern "C" void OnInterrupt(int) { interrupted.store(true); }

// The filter flags, as a subscribe or replay filter.
coop::v1::EventFilter FilterFromFlags() {
  coop::v1::EventFilter filter;
  for (const std::string& type : absl::GetFlag(FLAGS_types)) filter.add_types(type);
  for (const std::string& subject : absl::GetFlag(FLAGS_subjects)) filter.add_subjects(subject);
  for (const std::string& prefix : absl::GetFlag(FLAGS_subject_prefixes)) {
    filter.add_subject_prefixes(prefix);
  }
  for (const std::string& region : absl::GetFlag(FLAGS_regions)) {
    filter.add_regions()->set_code(region);
  }
  for (const std::string& party : absl::GetFlag(FLAGS_party_ids)) filter.add_party_ids(party);
  return filter;
}

// A required RFC 3339 flag as a Timestamp; INVALID_ARGUMENT naming the flag.
absl::Status RequiredTimeFlag(const char* flag, const std::string& value,
                              google::protobuf::Timestamp& timestamp) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat("--", flag, ": required"));
  absl::StatusOr<google::protobuf::Timestamp> time = coop::ctl::TimeFlag(flag, value);
  if (!time.ok()) return time.status();
  timestamp = *time;
  return absl::OkStatus();
}

int UsageError(const std::string& message) {
  std::cerr << "coopctl: " << message << "\n" << kUsage << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  // --help lists this tool's flags (absl matches files named after the program by default).
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "tools/coopctl/");
  };
  absl::SetFlagsUsageConfig(usage);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);

  coop::kafka::KafkaConfig kafka;
  kafka.bootstrap_servers = absl::GetFlag(FLAGS_bootstrap_servers);
  kafka.client_id = "coopctl";
  if (absl::Status added = kafka.AddProperties(absl::GetFlag(FLAGS_kafka_property)); !added.ok()) {
    return UsageError(absl::StrCat("--kafka_property: ", added.message()));
  }
  const absl::Duration timeout = absl::GetFlag(FLAGS_timeout);

  const std::vector<std::string> command(args.begin() + 1, args.end());
  absl::Status status;
  if (command.size() == 2 && command[0] == "topics" && command[1] == "ensure") {
    coop::kafka::EventTopicsConfig topics;
    topics.events_topic = absl::GetFlag(FLAGS_events_topic);
    topics.dead_letter_topic = absl::GetFlag(FLAGS_dead_letter_topic);
    topics.partitions = absl::GetFlag(FLAGS_partitions);
    topics.replication_factor = absl::GetFlag(FLAGS_replication_factor);
    topics.min_insync_replicas = absl::GetFlag(FLAGS_min_insync_replicas);
    status = coop::ctl::EnsureTopics(kafka, topics, timeout, std::cout);
  } else if (command.size() == 3 && command[0] == "topics" && command[1] == "describe") {
    status = coop::ctl::DescribeTopic(kafka, command[2], timeout, std::cout);
  } else if (command.size() >= 2 && command[0] == "publish") {
    absl::StatusOr<coop::ctl::ConnectionOptions> connection =
        ConnectionFromFlags(absl::GetFlag(FLAGS_publisher));
    if (!connection.ok()) return UsageError(std::string(connection.status().message()));
    coop::ctl::PublishOptions publish{.connection = *std::move(connection),
                                      .files = {command.begin() + 1, command.end()},
                                      .json = absl::GetFlag(FLAGS_json)};
    status = coop::ctl::Publish(publish, std::cin, std::cout);
  } else if (command.size() == 1 && command[0] == "subscribe") {
    absl::StatusOr<coop::ctl::ConnectionOptions> connection =
        ConnectionFromFlags(absl::GetFlag(FLAGS_stream));
    if (!connection.ok()) return UsageError(std::string(connection.status().message()));
    coop::ctl::SubscribeOptions subscribe{.connection = *std::move(connection),
                                          .count = absl::GetFlag(FLAGS_count),
                                          .json = absl::GetFlag(FLAGS_json)};
    if (absl::Status start = coop::ctl::SetStart(absl::GetFlag(FLAGS_start), subscribe.request);
        !start.ok()) {
      return UsageError(std::string(start.message()));
    }
    if (subscribe.count < 0) return UsageError("--count: must not be negative");
    *subscribe.request.mutable_filter() = FilterFromFlags();
    std::signal(SIGINT, OnInterrupt);
    std::signal(SIGTERM, OnInterrupt);
    status = coop::ctl::Subscribe(subscribe, interrupted, std::cout, std::cerr);
  } else if (command.size() == 1 && command[0] == "replay") {
    absl::StatusOr<coop::ctl::ConnectionOptions> connection =
        ConnectionFromFlags(absl::GetFlag(FLAGS_stream));
    if (!connection.ok()) return UsageError(std::string(connection.status().message()));
    coop::ctl::ReplayOptions replay{.connection = *std::move(connection)};
    for (const auto& [flag, value, timestamp] :
         {std::tuple{"from", absl::GetFlag(FLAGS_from), replay.request.mutable_start_time()},
          std::tuple{"to", absl::GetFlag(FLAGS_to), replay.request.mutable_end_time()}}) {
      if (absl::Status parsed = RequiredTimeFlag(flag, value, *timestamp); !parsed.ok()) {
        return UsageError(std::string(parsed.message()));
      }
    }
    *replay.request.mutable_filter() = FilterFromFlags();
    std::ofstream file;
    const std::string output = absl::GetFlag(FLAGS_output);
    if (!output.empty()) {
      file.open(output, std::ios::trunc);
      if (!file) return UsageError(absl::StrCat("--output: cannot write ", output));
    }
    std::signal(SIGINT, OnInterrupt);
    std::signal(SIGTERM, OnInterrupt);
    replay.progress_bar = isatty(STDERR_FILENO) == 1;
    status = coop::ctl::Replay(replay, interrupted, output.empty() ? std::cout : file, std::cerr);
  } else if (!command.empty() && command[0] == "views") {
    absl::StatusOr<coop::ctl::ConnectionOptions> connection =
        ConnectionFromFlags(absl::GetFlag(FLAGS_views));
    if (!connection.ok()) return UsageError(std::string(connection.status().message()));
    coop::ctl::ViewsOptions views{.connection = *std::move(connection),
                                  .args = {command.begin() + 1, command.end()},
                                  .json = absl::GetFlag(FLAGS_json),
                                  .limit = absl::GetFlag(FLAGS_limit),
                                  .filter = FilterFromFlags(),
                                  .wait = absl::GetFlag(FLAGS_wait)};
    for (const auto& [name, value] : std::initializer_list<std::pair<const char*, std::string>>{
             {"as_of", absl::GetFlag(FLAGS_as_of)},
             {"min_position", absl::GetFlag(FLAGS_min_position)},
             {"region", absl::GetFlag(FLAGS_region)},
             {"party_id", absl::GetFlag(FLAGS_party_id)},
             {"hub_id", absl::GetFlag(FLAGS_hub_id)},
             {"status", absl::GetFlag(FLAGS_status)},
             {"area", absl::GetFlag(FLAGS_area)},
             {"kind", absl::GetFlag(FLAGS_kind)},
             {"direction", absl::GetFlag(FLAGS_direction)},
             {"hs_code_prefix", absl::GetFlag(FLAGS_hs_code_prefix)},
             {"category_name", absl::GetFlag(FLAGS_category_name)},
             {"country", absl::GetFlag(FLAGS_country)},
             {"from", absl::GetFlag(FLAGS_from)},
             {"to", absl::GetFlag(FLAGS_to)}}) {
      if (!value.empty()) views.flags[name] = value;
    }
    if (absl::Status checked = coop::ctl::CheckViewsOptions(views); !checked.ok()) {
      return UsageError(std::string(checked.message()));
    }
    std::signal(SIGINT, OnInterrupt);
    std::signal(SIGTERM, OnInterrupt);
    status = coop::ctl::RunViews(views, interrupted, std::cout, std::cerr);
  } else if (command.size() == 1 && command[0] == "health") {
    absl::StatusOr<coop::ctl::ConnectionOptions> connection = ConnectionFromFlags("");
    if (!connection.ok()) return UsageError(std::string(connection.status().message()));
    coop::ctl::HealthOptions health{.connection = *std::move(connection),
                                    .events_topic = absl::GetFlag(FLAGS_events_topic),
                                    .json = absl::GetFlag(FLAGS_json)};
    health.kafka.bootstrap_servers.clear();
    for (const std::string& part : absl::GetFlag(FLAGS_check)) {
      if (part == "kafka") {
        health.kafka = kafka;
      } else if (part == "publisher" || part == "views" || part == "stream") {
        health.services.push_back({.role = part,
                                   .address = part == "publisher" ? absl::GetFlag(FLAGS_publisher)
                                              : part == "views"   ? absl::GetFlag(FLAGS_views)
                                                                  : absl::GetFlag(FLAGS_stream)});
      } else {
        return UsageError(
            absl::StrCat("--check: '", part, "' is not kafka, publisher, views or stream"));
      }
    }
    status = coop::ctl::Health(health, std::cout);
  } else if (command.size() == 1 && command[0] == "publish") {
    return UsageError("publish: name the files to publish (- for standard input)");
  } else if (command.empty()) {
    return UsageError("no command given");
  } else {
    return UsageError(absl::StrCat("unknown command '", absl::StrJoin(command, " "), "'"));
  }
  if (!status.ok()) {
    std::cerr << "coopctl: " << absl::StatusCodeToString(status.code()) << ": " << status.message()
              << "\n";
    return absl::IsInvalidArgument(status) ? 3 : 1;
  }
  return 0;
}
