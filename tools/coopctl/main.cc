// coopctl: the command-line tool for coopstream operators.
//
//   coopctl topics ensure   [flags]   create the event log and dead-letter topics if missing
//   coopctl topics describe TOPIC     show partitions, replicas and configs of a topic
//
// Exit codes: 0 done; 1 the operation failed (message on stderr); 2 bad command line.
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/kafka/event_topics.h"
#include "common/kafka/kafka_config.h"
#include "tools/coopctl/topics_command.h"

ABSL_FLAG(std::string, bootstrap_servers, "127.0.0.1:9092", "Kafka brokers, host:port,...");
ABSL_FLAG(std::vector<std::string>, kafka_property, {},
          "librdkafka properties as name=value,name=value (e.g. security.protocol=SASL_SSL)");
ABSL_FLAG(std::string, events_topic, "coop.events", "Name of the event log topic");
ABSL_FLAG(std::string, dead_letter_topic, "coop.events.dlq", "Name of the dead-letter topic");
ABSL_FLAG(int32_t, partitions, 6, "Partitions of each topic");
ABSL_FLAG(int32_t, replication_factor, 1, "Replicas of each partition (3 on a cluster)");
ABSL_FLAG(int32_t, min_insync_replicas, 1,
          "Replicas that must hold a record before it is acknowledged (2 on a cluster)");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(30), "How long to wait for Kafka");

namespace {

constexpr char kUsage[] =
    "coopctl COMMAND [flags]\n"
    "  topics ensure          create the event log and dead-letter topics if missing\n"
    "  topics describe TOPIC  show partitions, replicas and configs of a topic\n"
    "Exit codes: 0 done, 1 failed, 2 bad command line. --help lists the flags.";

int UsageError(const std::string& message) {
  std::cerr << "coopctl: " << message << "\n" << kUsage << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
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
  } else if (command.empty()) {
    return UsageError("no command given");
  } else {
    return UsageError(absl::StrCat("unknown command '", absl::StrJoin(command, " "), "'"));
  }
  if (!status.ok()) {
    std::cerr << "coopctl: " << absl::StatusCodeToString(status.code()) << ": " << status.message()
              << "\n";
    return 1;
  }
  return 0;
}
