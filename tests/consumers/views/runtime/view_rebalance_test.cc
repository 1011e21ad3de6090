// Two views consumers sharing the partitions of the log through a consumer group on one
// PostgreSQL store, with rebalances in the middle (one joins, then the other leaves): no event
// applied twice, none skipped, and the views equal a projection from scratch.
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/kafka/consumer.h"
#include "consumers/views/view_consumer.h"
#include "gtest/gtest.h"
#include "tests/consumers/views/projector_test_util.h"
#include "tests/consumers/views/runtime/runtime_test_env.h"
#include "tests/testing/kafka_env.h"
#include "tests/testing/postgres_env.h"
#include "tools/bench/view_events.h"

namespace coop::views::testing {
namespace {

struct Instance {
  std::unique_ptr<ViewConsumer> consumer;
  std::atomic<bool> stop{false};
  absl::Status result;
  std::thread thread;

  void Start() {
    thread = std::thread([this] { result = consumer->Run(stop); });
  }
  // Stops the consumer and leaves the group (committing the batch in hand on the revoke);
  // returns its counters (applied, duplicates) as they stand then.
  std::pair<int64_t, int64_t> Stop() {
    stop = true;
    if (thread.joinable()) thread.join();
    if (consumer == nullptr) return {0, 0};
    consumer->Close();
    const std::pair<int64_t, int64_t> counts = {consumer->stats().applied.load(),
                                                consumer->stats().duplicates.load()};
    consumer.reset();
    return counts;
  }
  ~Instance() { Stop(); }
};

TEST(ViewRebalanceTest, TwoInstancesOnPostgresWithRebalancesApplyEveryEventOnce) {
  const std::string bootstrap =
      coop::testing::BootstrapServersOrFail(coop::testing::kSingleNodeVariable);
  const std::string url = coop::testing::PostgresUrlOrFail();
  if (bootstrap.empty() || url.empty()) return;
  absl::StatusOr<TestTopics> topics =
      CreateTestTopics(bootstrap, coop::testing::UniqueTopicName("views-rebalance"));
  ASSERT_TRUE(topics.ok()) << topics.status();
  const std::string schema = coop::testing::UniqueSchemaName();
  const std::string fresh_schema = schema + "_fresh";

  bench::ViewEventsOptions generate;
  generate.count = 5000;
  generate.seed = 5;
  generate.duplicate_percent = 2;
  const std::vector<coop::v1::Event> events = bench::GenerateViewEvents(generate);
  absl::flat_hash_set<std::string> unique_ids;
  for (const coop::v1::Event& event : events) unique_ids.insert(event.source() + " " + event.id());
  const int64_t duplicates_in_log = static_cast<int64_t>(events.size() - unique_ids.size());

  ViewConsumerOptions options = TestConsumerOptions(*topics);
  options.group_id = coop::testing::UniqueTopicName("coop-views-group");
  auto open = [&](const std::string& name) {
    absl::StatusOr<std::unique_ptr<sql::Connection>> connection = sql::OpenPostgres(url, name);
    EXPECT_TRUE(connection.ok()) << connection.status();
    return connection.ok() ? *std::move(connection) : nullptr;
  };

  std::atomic<bool> produced{false};
  absl::Status produce_status;
  std::thread producer([&] {
    for (size_t i = 0; i < events.size() && produce_status.ok(); i += 250) {
      const std::vector<coop::v1::Event> chunk(
          events.begin() + static_cast<long>(i),
          events.begin() + static_cast<long>(std::min(events.size(), i + 250)));
      produce_status = ProduceEvents(topics->kafka, topics->events, chunk).status();
      absl::SleepFor(absl::Milliseconds(150));
    }
    produced = true;
  });

  Instance a, b;
  absl::StatusOr<std::unique_ptr<ViewConsumer>> created =
      ViewConsumer::Create(options, open(schema), "test-cluster");
  ASSERT_TRUE(created.ok()) << created.status();
  a.consumer = *std::move(created);
  a.Start();
  absl::SleepFor(absl::Seconds(1));
  // B joins: the group rebalances while A is applying.
  created = ViewConsumer::Create(options, open(schema), "test-cluster");
  ASSERT_TRUE(created.ok()) << created.status();
  b.consumer = *std::move(created);
  b.Start();
  absl::SleepFor(absl::Seconds(4));
  // A leaves: B takes every partition.
  const int64_t aborted = a.consumer->stats().aborted_batches.load();
  const auto [a_applied, a_duplicates] = a.Stop();
  ASSERT_TRUE(a.result.ok()) << a.result;
  producer.join();
  ASSERT_TRUE(produce_status.ok()) << produce_status;

  // B applies the rest.
  std::unique_ptr<sql::Connection> db = open(schema);
  std::unique_ptr<kafka::Consumer> reader =
      *kafka::Consumer::Create(topics->kafka, kafka::ConsumerOptions{});
  absl::StatusOr<std::map<int32_t, int64_t>> ends =
      reader->EndOffsets(topics->events, kTestPartitions, absl::Seconds(30));
  ASSERT_TRUE(ends.ok()) << ends.status();
  int64_t end_sum = 0;
  for (const auto& [p, end] : *ends) end_sum += end;
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  int64_t applied_sum = 0;
  while (absl::Now() < deadline) {
    applied_sum = sql::AsInt(*QueryValue(*db, "SELECT SUM(next_offset) FROM positions"));
    if (applied_sum >= end_sum) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(applied_sum, end_sum) << "B: " << (b.thread.joinable() ? "running" : "stopped")
                                  << ", A's result: " << a.result;
  const auto [b_applied, b_duplicates] = b.Stop();
  ASSERT_TRUE(b.result.ok()) << b.result;

  EXPECT_GT(a_applied, 0) << "A applied nothing before it left";
  EXPECT_GT(b_applied, 0) << "B applied nothing";
  // Each event applied once: new applications add up to the distinct events, and the only
  // duplicates seen are the repeats in the log itself (a record read twice would add one).
  EXPECT_EQ(a_applied + b_applied, static_cast<int64_t>(unique_ids.size()));
  EXPECT_EQ(a_duplicates + b_duplicates, duplicates_in_log) << "aborted batches: " << aborted;
  EXPECT_EQ(sql::AsInt(*QueryValue(*db, "SELECT COUNT(*) FROM events")),
            static_cast<int64_t>(unique_ids.size()));

  // And the views equal a projection of the same log from scratch by one consumer.
  ViewConsumerOptions alone = TestConsumerOptions(*topics);
  ASSERT_TRUE(ConsumeToEnd(alone, open(fresh_schema)).ok());
  std::unique_ptr<sql::Connection> fresh = open(fresh_schema);
  absl::StatusOr<std::string> shared_dump = DumpViews(*db);
  absl::StatusOr<std::string> fresh_dump = DumpViews(*fresh);
  ASSERT_TRUE(shared_dump.ok()) << shared_dump.status();
  ASSERT_TRUE(fresh_dump.ok()) << fresh_dump.status();
  EXPECT_TRUE(*shared_dump == *fresh_dump)
      << "the views of the two instances differ from a single projection";

  for (const std::string& name : {schema, fresh_schema}) {
    (void)db->ExecuteScript(absl::StrCat("DROP SCHEMA IF EXISTS \"", name, "\" CASCADE"));
  }
}

}  // namespace
}  // namespace coop::views::testing
