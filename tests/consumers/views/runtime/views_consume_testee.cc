// A process that runs the views consumer on an SQLite database, for the crash test to kill.
//   views_consume_testee BOOTSTRAP TOPIC DLQ_TOPIC DB_PATH MAX_BATCH_RECORDS [until-end]
// Runs until SIGTERM or, with "until-end", until it has applied the log up to the end offsets of
// when it started; exits 0 then, 1 on an error.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "consumers/views/sql/connection.h"
#include "consumers/views/view_consumer.h"

namespace {
std::atomic<bool> stop{false};
void OnSignal(int) { stop = true; }
}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s BOOTSTRAP TOPIC DLQ_TOPIC DB_PATH MAX_BATCH [until-end]\n",
                 argv[0]);
    return 2;
  }
  std::signal(SIGTERM, OnSignal);
  coop::views::ViewConsumerOptions options;
  options.kafka.bootstrap_servers = argv[1];
  options.topic = argv[2];
  options.dead_letter_topic = argv[3];
  options.max_batch_records = std::atoi(argv[5]);
  const bool until_end = argc > 6 && std::string(argv[6]) == "until-end";
  auto connection = coop::views::sql::OpenSqlite(argv[4]);
  if (!connection.ok()) {
    std::fprintf(stderr, "%s\n", connection.status().ToString().c_str());
    return 1;
  }
  auto consumer =
      coop::views::ViewConsumer::Create(options, *std::move(connection), "test-cluster");
  if (!consumer.ok()) {
    std::fprintf(stderr, "%s\n", consumer.status().ToString().c_str());
    return 1;
  }
  absl::Status status;
  if (until_end) {
    auto ends = (*consumer)->EndOffsets();
    status = ends.ok() ? (*consumer)->Run(stop, *ends) : ends.status();
  } else {
    status = (*consumer)->Run(stop);
  }
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
