// Integration: Replay against the real single-node broker, on topics written with known
// timestamps (recorded in 2025, so the topics keep records forever as coop.events does).
#include "services/stream/replay/replay.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/cursor/cursor_token.h"
#include "common/events/record_codec.h"
#include "common/kafka/event_topics.h"
#include "common/kafka/producer.h"
#include "common/kafka/topic_admin.h"
#include "common/rpc/status_conversion.h"
#include "coop/v1/errors.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "tests/services/stream/record_digest.h"
#include "tests/testing/kafka_env.h"
#include "tests/testing/sample_events.h"

namespace coop::stream {
namespace {

using ::coop::v1::Event;
using ::coop::v1::EventFilter;
using ::coop::v1::ReplayedEvent;
using ::coop::v1::ReplayProgress;
using ::coop::v1::ReplayResponse;
using ::coop::v1::ReplaySummary;
using ::google::protobuf::util::MessageDifferencer;
using ::google::protobuf::util::TimeUtil;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr absl::Duration kTimeout = absl::Seconds(30);
constexpr int32_t kPartitions = 3;
// 2025-09-10T09:00:00Z, in milliseconds.
constexpr int64_t kT0 = 1757494800000;

// A record as the test wrote it.
struct Written {
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = 0;
  std::string value;
  std::string subject;
  std::string type;
};

// A memorandum (or, with `cultural`, a concert) about `subject`, recorded at `recorded_ms`.
Event MakeEvent(const std::string& subject, int64_t recorded_ms, bool cultural = false) {
  static std::atomic<int> next_id{0};
  Event event = cultural ? testing::CulturalEventEvent() : testing::MemorandumSignedEvent();
  event.set_id(absl::StrCat("replay-test-", next_id++));
  event.set_subject(subject);
  *event.mutable_recorded_time() = TimeUtil::MillisecondsToTimestamp(recorded_ms);
  return event;
}

// The records of [start_ms, end_ms) that `keep` keeps, in (timestamp, partition, offset) order.
std::vector<Written> Expected(
    std::vector<Written> written, int64_t start_ms, int64_t end_ms,
    const std::function<bool(const Written&)>& keep = [](const Written&) { return true; }) {
  std::vector<Written> expected;
  for (Written& record : written) {
    if (record.timestamp_ms >= start_ms && record.timestamp_ms < end_ms && keep(record)) {
      expected.push_back(std::move(record));
    }
  }
  std::sort(expected.begin(), expected.end(), [](const Written& a, const Written& b) {
    return std::tie(a.timestamp_ms, a.partition, a.offset) <
           std::tie(b.timestamp_ms, b.partition, b.offset);
  });
  return expected;
}

ReplayRange Range(int64_t start_ms, int64_t end_ms) {
  return ReplayRange{.start = absl::FromUnixMillis(start_ms), .end = absl::FromUnixMillis(end_ms)};
}

// Everything one replay sent, in order.
struct Outcome {
  absl::Status status;
  std::vector<ReplayedEvent> events;
  std::vector<ReplayProgress> progress;
  std::optional<ReplaySummary> summary;
  // Messages the sink received after the summary (must stay 0).
  int after_summary = 0;
  // Per progress message: how many events came before it.
  std::vector<int64_t> events_before_progress;
};

class ReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kafka_.bootstrap_servers = testing::BootstrapServersOrFail(testing::kSingleNodeVariable);
    if (kafka_.bootstrap_servers.empty()) GTEST_FAIL() << "no broker";
    kafka_.client_id = "coop-replay-test";
    topic_ = testing::UniqueTopicName("replay");
    absl::StatusOr<std::unique_ptr<kafka::TopicAdmin>> admin = kafka::TopicAdmin::Create(kafka_);
    ASSERT_TRUE(admin.ok()) << admin.status();
    admin_ = *std::move(admin);
    kafka::EventTopicsConfig topics;
    topics.events_topic = topic_;
    topics.dead_letter_topic = topic_ + ".dlq";
    topics.partitions = kPartitions;
    ASSERT_TRUE(admin_->EnsureTopics(kafka::EventTopicSpecs(topics), kTimeout).ok());

    options_.kafka = kafka_;
    options_.topic = topic_;
    options_.log = cursor::LogId{.cluster_id = "replay-test-cluster", .topic = topic_};
    // The test's records were recorded in 2025: long settled.
    options_.settle_delay = absl::ZeroDuration();
  }

  // Writes `records` and waits for every delivery.
  std::vector<Written> ProduceRecords(const std::vector<kafka::KafkaRecord>& records) {
    absl::StatusOr<std::unique_ptr<kafka::Producer>> producer = kafka::Producer::Create(kafka_);
    EXPECT_TRUE(producer.ok()) << producer.status();
    if (!producer.ok()) return {};
    std::vector<Written> written(records.size());
    std::vector<absl::Status> results(records.size());
    std::atomic<size_t> done{0};
    for (size_t i = 0; i < records.size(); ++i) {
      written[i].value = records[i].value;
      written[i].subject = records[i].key;
      written[i].timestamp_ms = absl::ToUnixMillis(*records[i].timestamp);
      absl::Status queued;
      do {
        queued = (*producer)->Produce(topic_, records[i],
                                      [&, i](absl::StatusOr<kafka::RecordPosition> position) {
                                        if (position.ok()) {
                                          written[i].partition = position->partition;
                                          written[i].offset = position->offset;
                                        } else {
                                          results[i] = position.status();
                                        }
                                        ++done;
                                      });
        if (absl::IsResourceExhausted(queued)) absl::SleepFor(absl::Milliseconds(5));
      } while (absl::IsResourceExhausted(queued));
      EXPECT_TRUE(queued.ok()) << queued;
      if (!queued.ok()) return {};
    }
    while (done.load() < records.size()) absl::SleepFor(absl::Milliseconds(2));
    for (const absl::Status& result : results) {
      EXPECT_TRUE(result.ok()) << result;
      if (!result.ok()) return {};
    }
    return written;
  }

  std::vector<Written> Produce(const std::vector<Event>& events) {
    std::vector<kafka::KafkaRecord> records;
    for (const Event& event : events) {
      absl::StatusOr<kafka::KafkaRecord> record = events::EncodeRecord(event);
      EXPECT_TRUE(record.ok()) << record.status();
      if (!record.ok()) return {};
      records.push_back(*std::move(record));
    }
    std::vector<Written> written = ProduceRecords(records);
    for (size_t i = 0; i < written.size(); ++i) {
      written[i].type = std::string(events::PayloadTypeName(events[i]));
    }
    return written;
  }

  // Runs a replay, collecting what it sends. `on_event` (if set) decides what the sink returns.
  Outcome Run(const ReplayOptions& options, const ReplayRange& range,
              const EventFilter& filter = EventFilter(),
              const std::function<bool(const EventFacts&)>& may_see = nullptr,
              const std::function<bool(const ReplayedEvent&)>& on_event = nullptr) {
    Outcome outcome;
    absl::StatusOr<CompiledFilter> compiled = CompiledFilter::Compile(filter, "filter");
    EXPECT_TRUE(compiled.ok()) << compiled.status();
    if (!compiled.ok()) return outcome;
    std::atomic<bool> cancel{false};
    outcome.status = Replay(
        options, range, *compiled, may_see,
        [&outcome, &on_event](ReplayResponse&& sent) {
          // What a client receives: the event goes out as the stored record bytes, which the
          // client parses.
          ReplayResponse response;
          EXPECT_TRUE(response.ParseFromString(sent.SerializeAsString()));
          if (outcome.summary.has_value()) ++outcome.after_summary;
          switch (response.message_case()) {
            case ReplayResponse::kEvent:
              outcome.events.push_back(std::move(*response.mutable_event()));
              return on_event == nullptr || on_event(outcome.events.back());
            case ReplayResponse::kProgress:
              outcome.progress.push_back(response.progress());
              outcome.events_before_progress.push_back(static_cast<int64_t>(outcome.events.size()));
              return true;
            case ReplayResponse::kSummary:
              outcome.summary = response.summary();
              return true;
            case ReplayResponse::kEvents:  // Batches are made by the gRPC layer, not the core.
              ADD_FAILURE() << "the replay core sent a batch";
              return true;
            case ReplayResponse::MESSAGE_NOT_SET:
              break;
          }
          ADD_FAILURE() << "a response without a message";
          return true;
        },
        cancel);
    return outcome;
  }

  Outcome Run(const ReplayRange& range) { return Run(options_, range); }

  // Every delivered event is `expected`'s record at the same index, with its exact value and
  // position token; the summary counts them and holds their digest.
  void ExpectDelivered(const Outcome& outcome, const std::vector<Written>& expected) {
    ASSERT_TRUE(outcome.status.ok()) << outcome.status;
    ASSERT_THAT(outcome.events, SizeIs(expected.size()));
    for (size_t i = 0; i < expected.size(); ++i) {
      const ReplayedEvent& event = outcome.events[i];
      SCOPED_TRACE(absl::StrCat("event ", i));
      EXPECT_EQ(event.position().partition(), expected[i].partition);
      EXPECT_EQ(event.position().offset(), expected[i].offset);
      EXPECT_EQ(event.position().token(),
                cursor::EncodePosition(options_.log, expected[i].partition, expected[i].offset));
      EXPECT_EQ(event.record_value(), expected[i].value);
      Event stored;
      ASSERT_TRUE(stored.ParseFromString(expected[i].value));
      EXPECT_TRUE(MessageDifferencer::Equals(event.event(), stored));
      EXPECT_EQ(TimeUtil::TimestampToMilliseconds(event.event().recorded_time()),
                expected[i].timestamp_ms);
    }
    ASSERT_TRUE(outcome.summary.has_value());
    EXPECT_EQ(outcome.after_summary, 0);
    EXPECT_EQ(outcome.summary->count(), static_cast<int64_t>(expected.size()));
    EXPECT_EQ(absl::BytesToHexString(outcome.summary->sha256()),
              absl::BytesToHexString(coop::testing::RecordDigest(expected)));
    if (!expected.empty()) {
      EXPECT_EQ(outcome.summary->first_position().partition(), expected.front().partition);
      EXPECT_EQ(outcome.summary->first_position().offset(), expected.front().offset);
      EXPECT_EQ(outcome.summary->first_position().token(),
                cursor::EncodePosition(options_.log, expected.front().partition,
                                       expected.front().offset));
      EXPECT_EQ(outcome.summary->last_position().partition(), expected.back().partition);
      EXPECT_EQ(outcome.summary->last_position().offset(), expected.back().offset);
    }
  }

  // 30 subjects over the three partitions, `count` events `step_ms` apart from kT0 + 1 s.
  std::vector<Event> Interleaved(int count, int64_t step_ms) {
    std::vector<Event> events;
    for (int i = 0; i < count; ++i) {
      events.push_back(MakeEvent(absl::StrCat("hub/h-", i % 30), kT0 + 1000 + i * step_ms));
    }
    return events;
  }

  kafka::KafkaConfig kafka_;
  std::string topic_;
  std::unique_ptr<kafka::TopicAdmin> admin_;
  ReplayOptions options_;
};

std::set<int32_t> PartitionsOf(const std::vector<Written>& written) {
  std::set<int32_t> partitions;
  for (const Written& record : written) partitions.insert(record.partition);
  return partitions;
}

TEST_F(ReplayTest, StartIsInclusiveAndEndExclusiveToTheMillisecond) {
  const int64_t start = kT0 + 1000, end = kT0 + 2000;
  std::vector<Event> events;
  for (const int64_t at : {start - 1, start, start + 1, end - 1, end, end + 1}) {
    events.push_back(MakeEvent(absl::StrCat("hub/bound-", at - kT0), at));
  }
  const std::vector<Written> written = Produce(events);
  ASSERT_THAT(written, SizeIs(events.size()));
  const std::vector<Written> expected = Expected(written, start, end);
  ASSERT_THAT(expected, SizeIs(3));

  ExpectDelivered(Run(Range(start, end)), expected);
}

TEST_F(ReplayTest, DeliversInRecordedOrderAcrossPartitionsWithDisorderInsideTheWindow) {
  std::vector<Event> events = Interleaved(300, 7);
  // One subject (so one partition) stamped out of order by publishers with different clocks,
  // less than the 5 s window apart.
  for (const int64_t at : {3000, 1000, 2000, 1500, 2999, 1001}) {
    events.push_back(MakeEvent("hub/disorder", kT0 + at));
  }
  const std::vector<Written> written = Produce(events);
  ASSERT_THAT(written, SizeIs(events.size()));
  ASSERT_THAT(PartitionsOf(written), SizeIs(kPartitions));

  ExpectDelivered(Run(Range(kT0, kT0 + 10'000)), Expected(written, kT0, kT0 + 10'000));
}

TEST_F(ReplayTest, PartitionsReadInTurnWithATinyWindowKeepTheOrder) {
  const std::vector<Written> written = Produce(Interleaved(600, 5));
  ASSERT_THAT(written, SizeIs(600));
  ASSERT_THAT(PartitionsOf(written), SizeIs(kPartitions));
  ReplayOptions options = options_;
  // Records 5 ms apart across the partitions and a window of 20 ms: the replay switches to
  // another partition every few records, and delivers each record only once every partition
  // has read past it.
  options.order_window = absl::Milliseconds(20);

  ExpectDelivered(Run(options, Range(kT0, kT0 + 10'000)), Expected(written, kT0, kT0 + 10'000));
}

TEST_F(ReplayTest, DisorderBeyondTheWindowIsFailedPrecondition) {
  std::vector<Event> events;
  for (const int64_t at : {0, 10'000, 20'000}) events.push_back(MakeEvent("hub/late", kT0 + at));
  // Recorded 19 s before the record read just before it: by then the record recorded at +10 s
  // has been delivered, and this one sorts before it.
  events.push_back(MakeEvent("hub/late", kT0 + 1000));
  const std::vector<Written> written = Produce(events);
  ASSERT_THAT(written, SizeIs(4));
  ReplayOptions options = options_;
  options.order_window = absl::Seconds(1);

  const Outcome outcome = Run(options, Range(kT0, kT0 + 30'000));
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kFailedPrecondition) << outcome.status;
  EXPECT_THAT(outcome.status.message(), HasSubstr(absl::StrCat("partition ", written[3].partition,
                                                               " offset ", written[3].offset)));
  EXPECT_THAT(outcome.status.message(), HasSubstr("order window of 1s"));
  EXPECT_FALSE(outcome.summary.has_value());
  // What was delivered before the failure was in order.
  ASSERT_THAT(outcome.events, SizeIs(2));
  EXPECT_EQ(outcome.events[0].position().offset(), written[0].offset);
  EXPECT_EQ(outcome.events[1].position().offset(), written[1].offset);
}

TEST_F(ReplayTest, DigestIsTheSameOnEveryRunAndMatchesARecomputation) {
  const std::vector<Written> written = Produce(Interleaved(200, 11));
  ASSERT_THAT(written, SizeIs(200));
  const ReplayRange range = Range(kT0 + 1500, kT0 + 2800);
  const std::vector<Written> expected = Expected(written, kT0 + 1500, kT0 + 2800);
  ASSERT_FALSE(expected.empty());

  const Outcome first = Run(range);
  const Outcome second = Run(range);
  ExpectDelivered(first, expected);
  ExpectDelivered(second, expected);
  ASSERT_TRUE(first.summary.has_value() && second.summary.has_value());
  EXPECT_EQ(first.summary->sha256(), second.summary->sha256());
  EXPECT_THAT(first.summary->sha256(), SizeIs(32));
}

TEST_F(ReplayTest, FilterAndScopeSkipEventsAndLeaveThemOutOfTheDigest) {
  std::vector<Event> events;
  for (int i = 0; i < 40; ++i) {
    events.push_back(MakeEvent(absl::StrCat("agreement/a-", i), kT0 + 1000 + 10 * i));
    events.push_back(
        MakeEvent(absl::StrCat("culture/c-", i), kT0 + 1005 + 10 * i, /*cultural=*/true));
  }
  for (int i = 0; i < 5; ++i) {
    events.push_back(MakeEvent("culture/hidden", kT0 + 1003 + 10 * i, /*cultural=*/true));
  }
  const std::vector<Written> written = Produce(events);
  ASSERT_THAT(written, SizeIs(events.size()));
  EventFilter filter;
  filter.add_types("coop.v1.CulturalEvent");
  const auto may_see = [](const EventFacts& facts) { return facts.subject != "culture/hidden"; };

  const std::vector<Written> expected =
      Expected(written, kT0, kT0 + 5000, [](const Written& record) {
        return record.type == "coop.v1.CulturalEvent" && record.subject != "culture/hidden";
      });
  ASSERT_THAT(expected, SizeIs(40));
  ExpectDelivered(Run(options_, Range(kT0, kT0 + 5000), filter, may_see), expected);
}

TEST_F(ReplayTest, EmptyRangeHasTheDigestOfNothing) {
  ASSERT_THAT(Produce(Interleaved(20, 10)), SizeIs(20));

  const Outcome outcome = Run(Range(kT0 + 100'000, kT0 + 200'000));
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_TRUE(outcome.events.empty());
  ASSERT_TRUE(outcome.summary.has_value());
  EXPECT_EQ(outcome.summary->count(), 0);
  EXPECT_FALSE(outcome.summary->has_first_position());
  EXPECT_FALSE(outcome.summary->has_last_position());
  EXPECT_EQ(absl::BytesToHexString(outcome.summary->sha256()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_F(ReplayTest, EndWithinTheSettleDelayIsOutOfRange) {
  ReplayOptions options = options_;
  options.settle_delay = absl::Seconds(60);
  const absl::Time now = absl::Now();

  const Outcome outcome =
      Run(options, ReplayRange{.start = now - absl::Hours(1), .end = now - absl::Seconds(30)});
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kOutOfRange) << outcome.status;
  EXPECT_FALSE(outcome.summary.has_value());
}

TEST_F(ReplayTest, EndNotAfterStartIsInvalidArgumentOnEndTime) {
  const Outcome outcome = Run(Range(kT0 + 1000, kT0 + 1000));
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kInvalidArgument) << outcome.status;
  const auto payload = outcome.status.GetPayload(rpc::kBadRequestTypeUrl);
  ASSERT_TRUE(payload.has_value());
  coop::v1::BadRequest bad_request;
  ASSERT_TRUE(bad_request.ParseFromString(std::string(*payload)));
  ASSERT_THAT(bad_request.field_violations(), SizeIs(1));
  EXPECT_EQ(bad_request.field_violations(0).field(), "end_time");
}

TEST_F(ReplayTest, DeletedRecordsOfTheRangeAreFailedPrecondition) {
  std::vector<Event> events;
  for (int i = 1; i <= 5; ++i) events.push_back(MakeEvent("hub/deleted", kT0 + 1000 * i));
  const std::vector<Written> written = Produce(events);
  ASSERT_THAT(written, SizeIs(5));
  absl::StatusOr<int64_t> log_start =
      admin_->DeleteRecordsBefore(topic_, written[0].partition, written[2].offset, kTimeout);
  ASSERT_TRUE(log_start.ok()) << log_start.status();

  const Outcome outcome = Run(Range(kT0, kT0 + 10'000));
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kFailedPrecondition) << outcome.status;
  EXPECT_THAT(outcome.status.message(),
              HasSubstr(absl::StrCat("partition ", written[0].partition)));
  EXPECT_TRUE(outcome.events.empty());
}

TEST_F(ReplayTest, DeletedRecordsBeforeTheRangeDoNotMatter) {
  std::vector<Event> events;
  for (int i = 1; i <= 5; ++i) events.push_back(MakeEvent("hub/deleted", kT0 + 1000 * i));
  const std::vector<Written> written = Produce(events);
  ASSERT_THAT(written, SizeIs(5));
  ASSERT_TRUE(
      admin_->DeleteRecordsBefore(topic_, written[0].partition, written[2].offset, kTimeout).ok());

  // The oldest record left was recorded at +3 s, before the start.
  ExpectDelivered(Run(Range(kT0 + 3500, kT0 + 10'000)),
                  Expected(written, kT0 + 3500, kT0 + 10'000));
}

TEST_F(ReplayTest, UndecodableRecordIsDataLossNamingItsPosition) {
  kafka::KafkaRecord record;
  record.key = "hub/fine";
  record.value = "not an event";
  record.timestamp = absl::FromUnixMillis(kT0 + 1000);
  const std::vector<Written> written = ProduceRecords({record});
  ASSERT_THAT(written, SizeIs(1));

  const Outcome outcome = Run(Range(kT0, kT0 + 10'000));
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kDataLoss) << outcome.status;
  EXPECT_THAT(outcome.status.message(), HasSubstr(absl::StrCat("partition ", written[0].partition,
                                                               " offset ", written[0].offset)));
  EXPECT_FALSE(outcome.summary.has_value());
}

TEST_F(ReplayTest, ProgressIsSentAtTheInterval) {
  const std::vector<Written> written = Produce(Interleaved(50, 20));
  ASSERT_THAT(written, SizeIs(50));
  ReplayOptions options = options_;
  options.progress_interval = absl::Milliseconds(1);
  const int64_t start = kT0, end = kT0 + 10'000;

  // A slow client: every event takes longer than the interval.
  const Outcome outcome =
      Run(options, Range(start, end), EventFilter(), nullptr, [](const ReplayedEvent&) {
        absl::SleepFor(absl::Milliseconds(2));
        return true;
      });
  ExpectDelivered(outcome, Expected(written, start, end));
  ASSERT_GE(outcome.progress.size(), 40u);
  int64_t reached = start;
  for (size_t i = 0; i < outcome.progress.size(); ++i) {
    const ReplayProgress& progress = outcome.progress[i];
    const int64_t at = TimeUtil::TimestampToMilliseconds(progress.reached_time());
    EXPECT_GE(at, reached);
    EXPECT_LE(at, end);
    reached = at;
    EXPECT_EQ(progress.delivered_count(), outcome.events_before_progress[i]);
    EXPECT_GE(progress.scanned_count(), progress.delivered_count());
    // Everything recorded before reached_time has been delivered.
    EXPECT_LE(std::count_if(written.begin(), written.end(),
                            [at](const Written& record) { return record.timestamp_ms < at; }),
              progress.delivered_count());
  }
}

TEST_F(ReplayTest, ClientGoneStopsWithCancelled) {
  ASSERT_THAT(Produce(Interleaved(50, 10)), SizeIs(50));

  int calls = 0;
  const Outcome outcome = Run(options_, Range(kT0, kT0 + 10'000), EventFilter(), nullptr,
                              [&calls](const ReplayedEvent&) {
                                ++calls;
                                return false;
                              });
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kCancelled) << outcome.status;
  EXPECT_EQ(calls, 1);
  EXPECT_THAT(outcome.events, SizeIs(1));
  EXPECT_FALSE(outcome.summary.has_value());
}

}  // namespace
}  // namespace coop::stream
