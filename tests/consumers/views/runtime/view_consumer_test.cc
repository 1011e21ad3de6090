// The views consumer against the real test broker and real SQLite databases: events from Kafka
// into the views, dead letters, restarts from the stored positions, duplicates in the log.
#include "consumers/views/view_consumer.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/events/record_codec.h"
#include "common/kafka/consumer.h"
#include "common/kafka/topic_admin.h"
#include "coop/v1/views.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/unknown_field_set.h"
#include "gtest/gtest.h"
#include "tests/consumers/views/projector_test_util.h"
#include "tests/consumers/views/runtime/runtime_test_env.h"
#include "tests/testing/kafka_env.h"
#include "tests/testing/seed_events.h"
#include "tools/bench/view_events.h"

namespace coop::views::testing {
namespace {

class ViewConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string bootstrap =
        coop::testing::BootstrapServersOrFail(coop::testing::kSingleNodeVariable);
    if (bootstrap.empty()) GTEST_FAIL() << "no broker; the failure above says why";
    absl::StatusOr<TestTopics> topics =
        CreateTestTopics(bootstrap, coop::testing::UniqueTopicName("views"));
    ASSERT_TRUE(topics.ok()) << topics.status();
    topics_ = *topics;
    dir_ = std::filesystem::temp_directory_path() /
           coop::testing::UniqueTopicName("coop-views-consumer");
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::unique_ptr<sql::Connection> Open(const std::string& name) {
    absl::StatusOr<std::unique_ptr<sql::Connection>> connection =
        sql::OpenSqlite((dir_ / name).string());
    EXPECT_TRUE(connection.ok()) << connection.status();
    return connection.ok() ? *std::move(connection) : nullptr;
  }

  TestTopics topics_;
  std::filesystem::path dir_;
};

TEST_F(ViewConsumerTest, AppliesTheSeedEventsFromKafka) {
  const std::vector<coop::v1::Event> seeds = coop::testing::SeedEvents();
  ASSERT_TRUE(ProduceEvents(topics_.kafka, topics_.events, seeds).ok());
  ASSERT_TRUE(ConsumeToEnd(TestConsumerOptions(topics_), Open("views.db")).ok());

  std::unique_ptr<sql::Connection> db = Open("views.db");
  absl::StatusOr<sql::Value> events = QueryValue(*db, "SELECT COUNT(*) FROM events");
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(sql::AsInt(*events), static_cast<int64_t>(seeds.size()));
  coop::v1::Agreement memorandum;
  ASSERT_TRUE(LoadDoc(*db, "SELECT doc FROM agreements WHERE agreement_id = $1",
                      "ru-mos-kz-19-memorandum-2025", memorandum)
                  .ok());
  EXPECT_EQ(memorandum.laterality(), coop::v1::LATERALITY_BILATERAL);
  coop::v1::Hub selyatino;
  ASSERT_TRUE(LoadDoc(*db, "SELECT doc FROM hubs WHERE hub_id = $1", "selyatino", selyatino).ok());
  EXPECT_EQ(selyatino.jobs(), 1500);
  // The stored positions are the end of every partition.
  std::unique_ptr<kafka::Consumer> reader =
      *kafka::Consumer::Create(topics_.kafka, kafka::ConsumerOptions{});
  const std::map<int32_t, int64_t> ends =
      *reader->EndOffsets(topics_.events, kTestPartitions, absl::Seconds(30));
  for (const auto& [partition, end] : ends) {
    absl::StatusOr<sql::Value> stored =
        QueryValue(*db, "SELECT next_offset FROM positions WHERE kafka_partition = $1",
                   {sql::Value(int64_t{partition})});
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_EQ(sql::AsInt(*stored), end) << "partition " << partition;
  }
}

TEST_F(ViewConsumerTest, PoisonRecordsGoToTheDeadLetterTopicAndTheConsumerGoesOn) {
  const coop::v1::Event memorandum = SeedEvent(kMemorandumId);
  const coop::v1::Event selyatino = SeedEvent(kSelyatinoAgreementId);
  std::vector<kafka::KafkaRecord> records;
  records.push_back(*events::EncodeRecord(memorandum));
  // Undecodable: not a Protobuf envelope.
  kafka::KafkaRecord garbage = *events::EncodeRecord(memorandum);
  garbage.value = "\xff\xff not protobuf";
  records.push_back(garbage);
  // Invalid by the contract: a memorandum without a title.
  coop::v1::Event invalid = memorandum;
  invalid.set_id("invalid-memorandum");
  invalid.mutable_memorandum_signed()->clear_title();
  records.push_back(*events::EncodeRecord(invalid));
  // Unknown payload type: an envelope from a newer schema whose payload this build lacks.
  coop::v1::Event future = memorandum;
  future.set_id("future-payload");
  future.clear_memorandum_signed();
  future.GetReflection()->MutableUnknownFields(&future)->AddLengthDelimited(
      99, "a payload of a newer schema");
  kafka::KafkaRecord unknown = *events::EncodeRecord(memorandum);
  unknown.value = future.SerializeAsString();
  for (kafka::RecordHeader& header : unknown.headers) {
    if (header.name == "ce_id") header.value = "future-payload";
  }
  records.push_back(unknown);
  // A valid event after them, on the same subject (so the same partition, in this order).
  coop::v1::Event amendment =
      Amendment("mosreg-amendment-after-poison", "ru-mos-kz-19-memorandum-2025",
                coop::v1::AGREEMENT_STATUS_IN_FORCE,
                absl::FromUnixSeconds(memorandum.recorded_time().seconds()) + absl::Minutes(30));
  records.push_back(*events::EncodeRecord(amendment));
  records.push_back(*events::EncodeRecord(selyatino));
  absl::StatusOr<std::vector<kafka::RecordPosition>> positions =
      ProduceRecords(topics_.kafka, topics_.events, records);
  ASSERT_TRUE(positions.ok()) << positions.status();

  ViewConsumerOptions options = TestConsumerOptions(topics_);
  std::unique_ptr<ViewConsumer> consumer =
      *ViewConsumer::Create(options, Open("views.db"), "test-cluster");
  std::atomic<bool> stop{false};
  ASSERT_TRUE(consumer->Run(stop, *consumer->EndOffsets()).ok());
  EXPECT_EQ(consumer->stats().dead_lettered.load(), 3);

  std::unique_ptr<sql::Connection> db = Open("views.db");
  absl::StatusOr<sql::Value> ids = QueryValue(
      *db, "SELECT COUNT(*) FROM events WHERE id IN ($1, $2, $3)",
      {sql::Value(memorandum.id()), sql::Value(amendment.id()), sql::Value(selyatino.id())});
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(sql::AsInt(*ids), 3) << "the events around the poison records are applied";
  EXPECT_EQ(sql::AsInt(*QueryValue(*db, "SELECT COUNT(*) FROM events")), 3);
  coop::v1::Agreement agreement;
  ASSERT_TRUE(LoadDoc(*db, "SELECT doc FROM agreements WHERE agreement_id = $1",
                      "ru-mos-kz-19-memorandum-2025", agreement)
                  .ok());
  EXPECT_EQ(agreement.status(), coop::v1::AGREEMENT_STATUS_IN_FORCE);

  // The dead-letter topic holds the three records with the reason and where they came from.
  kafka::ConsumerOptions reader_options;
  std::unique_ptr<kafka::Consumer> reader = *kafka::Consumer::Create(topics_.kafka, reader_options);
  // Every dead letter keeps its record's key, so the three share a partition, in their order.
  std::map<int32_t, int64_t> from_start;
  for (int32_t p = 0; p < kTestPartitions; ++p) from_start[p] = kafka::kOffsetBeginning;
  ASSERT_TRUE(reader->AssignAll(topics_.dead_letters, from_start).ok());
  std::vector<kafka::ConsumedRecord> dead;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (dead.size() < 3 && absl::Now() < deadline) {
    absl::StatusOr<std::optional<kafka::ConsumedRecord>> polled =
        reader->Poll(absl::Milliseconds(200));
    if (polled.ok() && polled->has_value()) dead.push_back(**polled);
  }
  ASSERT_EQ(dead.size(), 3u);
  const std::vector<std::string> expected_reasons = {"undecodable", "invalid: event.memorandum",
                                                     "unknown payload type"};
  for (size_t i = 0; i < dead.size(); ++i) {
    const kafka::ConsumedRecord& record = dead[i];
    EXPECT_THAT(std::string(*events::FindHeader(record.record, kDeadLetterReasonHeader)),
                ::testing::StartsWith(expected_reasons[i]));
    EXPECT_EQ(*events::FindHeader(record.record, kDeadLetterTopicHeader), topics_.events);
    EXPECT_EQ(*events::FindHeader(record.record, kDeadLetterPartitionHeader),
              absl::StrCat((*positions)[i + 1].partition));
    EXPECT_EQ(*events::FindHeader(record.record, kDeadLetterOffsetHeader),
              absl::StrCat((*positions)[i + 1].offset));
    EXPECT_EQ(record.record.value, records[i + 1].value) << "the record is kept as it was";
  }
}

TEST_F(ViewConsumerTest, ResumesFromStoredPositionsAndDuplicatesInTheLogChangeNothing) {
  bench::ViewEventsOptions generate;
  generate.count = 600;
  generate.seed = 7;
  const std::vector<coop::v1::Event> events = bench::GenerateViewEvents(generate);
  const std::vector<coop::v1::Event> first(events.begin(), events.begin() + 300);
  ASSERT_TRUE(ProduceEvents(topics_.kafka, topics_.events, first).ok());
  ASSERT_TRUE(ConsumeToEnd(TestConsumerOptions(topics_), Open("views.db")).ok());

  // The rest, then the first 100 again (a publisher retrying after a timeout).
  std::vector<coop::v1::Event> rest(events.begin() + 300, events.end());
  rest.insert(rest.end(), events.begin(), events.begin() + 100);
  ASSERT_TRUE(ProduceEvents(topics_.kafka, topics_.events, rest).ok());
  ASSERT_TRUE(ConsumeToEnd(TestConsumerOptions(topics_), Open("views.db")).ok());

  // A projection of the same events without the repeats, from scratch, in one go.
  const TestTopics fresh_topics =
      *CreateTestTopics(topics_.kafka.bootstrap_servers, coop::testing::UniqueTopicName("fresh"));
  ASSERT_TRUE(ProduceEvents(fresh_topics.kafka, fresh_topics.events, events).ok());
  ASSERT_TRUE(ConsumeToEnd(TestConsumerOptions(fresh_topics), Open("fresh.db")).ok());

  std::unique_ptr<sql::Connection> resumed = Open("views.db");
  std::unique_ptr<sql::Connection> fresh = Open("fresh.db");
  // Positions and timeline offsets differ (the repeats took offsets); the views do not.
  for (const char* table : {"agreements", "hubs", "trade_rows", "region_facts", "tourism_flows",
                            "facets", "regions", "incentives", "sites"}) {
    const std::set<std::string> all = {
        "agreements", "hubs",     "trade_rows",       "region_facts", "tourism_flows",
        "facets",     "regions",  "incentives",       "sites",        "events",
        "positions",  "log_info", "schema_migrations"};
    std::set<std::string> excluded = all;
    excluded.erase(table);
    absl::StatusOr<std::string> a = DumpTables(*resumed, excluded);
    absl::StatusOr<std::string> b = DumpTables(*fresh, excluded);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(*a, *b) << "table " << table;
  }
  EXPECT_EQ(sql::AsInt(*QueryValue(*resumed, "SELECT COUNT(*) FROM events")),
            sql::AsInt(*QueryValue(*fresh, "SELECT COUNT(*) FROM events")));
}

TEST_F(ViewConsumerTest, RecordsDeletedFromTheLogStopTheConsumerWithDataLossInsteadOfASkip) {
  const std::vector<coop::v1::Event> seeds = coop::testing::SeedEvents();
  absl::StatusOr<std::vector<kafka::RecordPosition>> written =
      ProduceEvents(topics_.kafka, topics_.events, seeds);
  ASSERT_TRUE(written.ok()) << written.status();
  // The partition holding the most records loses its first two.
  std::map<int32_t, int64_t> held;
  for (const kafka::RecordPosition& position : *written) ++held[position.partition];
  const int32_t partition =
      std::max_element(held.begin(), held.end(), [](const auto& a, const auto& b) {
        return a.second < b.second;
      })->first;
  ASSERT_GE(held[partition], 3);
  absl::StatusOr<std::unique_ptr<kafka::TopicAdmin>> admin =
      kafka::TopicAdmin::Create(topics_.kafka);
  ASSERT_TRUE(admin.ok()) << admin.status();
  ASSERT_TRUE((*admin)->DeleteRecordsBefore(topics_.events, partition, 2, absl::Seconds(30)).ok());

  const absl::Status status = ConsumeToEnd(TestConsumerOptions(topics_), Open("views.db"));
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
  EXPECT_THAT(status.message(),
              ::testing::HasSubstr(absl::StrCat(topics_.events, "[", partition, "] at offset 0")));
  // Nothing of that partition was applied, and its position did not move past the gap.
  std::unique_ptr<sql::Connection> db = Open("views.db");
  EXPECT_EQ(
      sql::AsInt(*QueryValue(*db, "SELECT next_offset FROM positions WHERE kafka_partition = $1",
                             {sql::Value(int64_t{partition})})),
      0);
  EXPECT_EQ(sql::AsInt(*QueryValue(*db, "SELECT COUNT(*) FROM events WHERE kafka_partition = $1",
                                   {sql::Value(int64_t{partition})})),
            0);
}

}  // namespace
}  // namespace coop::views::testing
