// Subscriptions.Subscribe end to end: a real broker, the stream service in a gRPC server on a
// local port, clients over gRPC. Every check compares what clients received with the records
// the test wrote, position by position.
#include <algorithm>
#include <atomic>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/auth/api_key.h"
#include "common/auth/scope.h"
#include "common/cursor/cursor_token.h"
#include "common/events/record_codec.h"
#include "common/kafka/topic_admin.h"
#include "coop/v1/subscriptions.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "tests/common/auth/test_policy.h"
#include "tests/services/stream/stream_test_env.h"
#include "tests/testing/kafka_env.h"
#include "tests/testing/seed_events.h"
#include "tools/bench/view_events.h"

namespace coop::stream::testing {
namespace {

using ::coop::v1::Event;
using ::coop::v1::EventFilter;
using ::coop::v1::SubscribeRequest;
using ::coop::v1::SubscribeResponse;
using ::google::protobuf::util::TimeUtil;
using ::testing::AssertionFailure;
using ::testing::AssertionResult;
using ::testing::AssertionSuccess;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr absl::Duration kWait = absl::Seconds(20);

std::string Show(const RecordKey& key) { return absl::StrCat(key.first, "@", key.second); }

std::string ShowSome(const std::vector<RecordKey>& keys) {
  std::vector<std::string> shown;
  for (size_t i = 0; i < keys.size() && i < 10; ++i) shown.push_back(Show(keys[i]));
  if (keys.size() > 10) shown.push_back("...");
  return absl::StrCat("[", absl::StrJoin(shown, ", "), "]");
}

// Whether `delivered` (in delivery order) holds every record of `expected` exactly once and
// nothing else, with offsets increasing within each partition.
AssertionResult ExactlyOnceInOrder(const std::vector<RecordKey>& delivered,
                                   const std::vector<RecordKey>& expected) {
  std::set<RecordKey> seen;
  std::map<int32_t, int64_t> last;
  for (size_t i = 0; i < delivered.size(); ++i) {
    const RecordKey& key = delivered[i];
    if (!seen.insert(key).second) {
      return AssertionFailure() << "record " << Show(key) << " delivered twice (again as #" << i
                                << ")";
    }
    auto it = last.find(key.first);
    if (it != last.end() && key.second < it->second) {
      return AssertionFailure() << "record " << Show(key) << " (#" << i << ") came after offset "
                                << it->second << " of its partition";
    }
    last[key.first] = key.second;
  }
  const std::set<RecordKey> wanted(expected.begin(), expected.end());
  std::vector<RecordKey> missing;
  std::vector<RecordKey> unexpected;
  std::set_difference(wanted.begin(), wanted.end(), seen.begin(), seen.end(),
                      std::back_inserter(missing));
  std::set_difference(seen.begin(), seen.end(), wanted.begin(), wanted.end(),
                      std::back_inserter(unexpected));
  if (!missing.empty() || !unexpected.empty()) {
    return AssertionFailure() << delivered.size() << " delivered, " << wanted.size()
                              << " expected; missing " << missing.size() << " " << ShowSome(missing)
                              << ", unexpected " << unexpected.size() << " "
                              << ShowSome(unexpected);
  }
  return AssertionSuccess();
}

std::vector<RecordKey> Concat(std::vector<RecordKey> a, const std::vector<RecordKey>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Whether every offset of `offsets` is at least the one of `ends`, partition by partition.
bool AtLeast(const std::vector<int64_t>& offsets, const std::vector<int64_t>& ends) {
  if (offsets.size() != ends.size()) return false;
  for (size_t p = 0; p < ends.size(); ++p) {
    if (offsets[p] < ends[p]) return false;
  }
  return true;
}

// Valid events as publishers write them, recorded 10 ms apart from `first`; no exact duplicates
// (their recorded_time would go back in time).
std::vector<Event> Events(int64_t count, uint64_t seed,
                          absl::Time first = absl::FromCivil(absl::CivilSecond(2025, 9, 10, 9, 0,
                                                                               0),
                                                             absl::UTCTimeZone()),
                          int correction_percent = 1) {
  bench::ViewEventsOptions options;
  options.count = count;
  options.seed = seed;
  options.first_recorded = first;
  options.duplicate_percent = 0;
  options.correction_percent = correction_percent;
  return bench::GenerateViewEvents(options);
}

std::vector<Event> Slice(const std::vector<Event>& events, size_t begin, size_t end) {
  return std::vector<Event>(events.begin() + static_cast<ptrdiff_t>(begin),
                            events.begin() + static_cast<ptrdiff_t>(end));
}

SubscribeRequest WithHeartbeat(SubscribeRequest request, absl::Duration interval) {
  *request.mutable_heartbeat_interval() =
      TimeUtil::MillisecondsToDuration(absl::ToInt64Milliseconds(interval));
  return request;
}

// The party_id of every coop.v1.Party anywhere in `message`.
void CollectPartyIds(const google::protobuf::Message& message, std::set<std::string>& ids) {
  const google::protobuf::Descriptor* descriptor = message.GetDescriptor();
  const google::protobuf::Reflection* reflection = message.GetReflection();
  if (descriptor->full_name() == "coop.v1.Party") {
    ids.insert(reflection->GetString(message, descriptor->FindFieldByName("party_id")));
  }
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const google::protobuf::FieldDescriptor* field : fields) {
    if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        CollectPartyIds(reflection->GetRepeatedMessage(message, field, i), ids);
      }
    } else {
      CollectPartyIds(reflection->GetMessage(message, field), ids);
    }
  }
}

bool HasRegionIn(const Event& event, absl::string_view country_or_region) {
  for (const std::string& code : auth::RegionCodesIn(event)) {
    if (code == country_or_region || absl::StartsWith(code, absl::StrCat(country_or_region, "-"))) {
      return true;
    }
  }
  return false;
}

class SubscribeTest : public StreamServerTest {
 protected:
  SubscribeTest() : StreamServerTest("coop.stream-test") {}

  // Writes `events`, remembering what lies where; the positions in event order.
  std::vector<kafka::RecordPosition> Produce(const std::vector<Event>& events) {
    absl::StatusOr<std::vector<kafka::RecordPosition>> positions = log_->Produce(events);
    EXPECT_TRUE(positions.ok()) << positions.status();
    if (!positions.ok()) return {};
    Remember(events, *positions);
    return *positions;
  }

  void Remember(const std::vector<Event>& events,
                const std::vector<kafka::RecordPosition>& positions) {
    for (size_t i = 0; i < events.size() && i < positions.size(); ++i) {
      written_[{positions[i].partition, positions[i].offset}] = events[i];
    }
  }

  std::vector<int64_t> EndOffsets() {
    absl::StatusOr<std::vector<int64_t>> ends = log_->EndOffsets();
    EXPECT_TRUE(ends.ok()) << ends.status();
    return ends.ok() ? *ends : std::vector<int64_t>(kTestPartitions, 0);
  }

  // Whether each event message carries the event written at its position and a cursor just past
  // it on its partition.
  AssertionResult EventsAsWritten(const Subscriber::Messages& messages) {
    for (const SubscribeResponse& message : messages) {
      for (const coop::v1::StreamedEvent* event : StreamedEventsOf(message)) {
        if (AssertionResult as_written = EventAsWritten(*event); !as_written) return as_written;
      }
    }
    return AssertionSuccess();
  }

  AssertionResult EventAsWritten(const coop::v1::StreamedEvent& streamed) {
    const RecordKey key{streamed.position().partition(), streamed.position().offset()};
    auto it = written_.find(key);
    if (it == written_.end()) return AssertionFailure() << "no event was written at " << Show(key);
    if (!google::protobuf::util::MessageDifferencer::Equals(streamed.event(), it->second)) {
      return AssertionFailure() << "the event at " << Show(key) << " differs from the one written";
    }
    absl::StatusOr<std::vector<int64_t>> next = CursorOffsets(streamed.cursor(), log_->log_id());
    if (!next.ok()) return AssertionFailure() << next.status();
    if ((*next)[static_cast<size_t>(key.first)] != key.second + 1) {
      return AssertionFailure() << "the cursor of " << Show(key) << " resumes partition "
                                << key.first << " at " << (*next)[static_cast<size_t>(key.first)];
    }
    return AssertionSuccess();
  }

  // Waits until `subscriber` has sent a message whose cursor is past `ends` on every partition
  // (it has then read every record before them).
  bool WaitUntilPast(Subscriber& subscriber, const std::vector<int64_t>& ends,
                     absl::Duration timeout = kWait) {
    const cursor::LogId log = log_->log_id();
    // Cursors only move forward: the last message has the furthest.
    return subscriber.WaitUntil(
        [&](const Subscriber::Messages& messages) {
          if (messages.empty()) return false;
          absl::StatusOr<std::vector<int64_t>> offsets =
              CursorOffsets(CursorOf(messages.back()), log);
          return offsets.ok() && AtLeast(*offsets, ends);
        },
        timeout);
  }

  // Keys of the written records whose event satisfies `selected`.
  std::vector<RecordKey> WrittenWhere(const std::function<bool(const Event&)>& selected) const {
    std::vector<RecordKey> keys;
    for (const auto& [key, event] : written_) {
      if (selected(event)) keys.push_back(key);
    }
    return keys;
  }

  // Subscribes from the start with `filter` (and `api_key`) while half of `events` is history
  // and half is written live, and checks that exactly the events `expected` selects arrive.
  void ExpectDelivers(const EventFilter& filter, const std::function<bool(const Event&)>& expected,
                      const std::string& api_key = "", const TestServerOptions& options = {},
                      std::vector<Event> events = {});

  std::map<RecordKey, Event> written_;
};

// ---- Cursors ------------------------------------------------------------------------------------

TEST_F(SubscribeTest, ResumingFromCursorsAtRandomPointsWhilePublishingDeliversEachRecordOnce) {
  const std::vector<Event> events = Events(1500, 11);
  const std::vector<Event> history = Slice(events, 0, 500);
  const std::vector<Event> live = Slice(events, 500, events.size());
  const std::vector<kafka::RecordPosition> history_positions = Produce(history);
  ASSERT_EQ(history_positions.size(), history.size());
  // A ring smaller than the log: resumed subscriptions start in history (catch-up readers) and
  // join the ring once they are near its head.
  ASSERT_NO_FATAL_FAILURE(StartServer({.ring_max_entries = 400}));

  BackgroundProducer producer(*log_, live, 20, absl::Milliseconds(30));
  const unsigned seed = std::random_device()();
  SCOPED_TRACE(absl::StrCat("random seed ", seed));
  std::mt19937 random(seed);
  std::uniform_int_distribution<size_t> take_count(1, 250);

  std::vector<RecordKey> delivered;
  std::set<RecordKey> seen;
  Subscriber::Messages taken;
  std::string cursor;
  int sessions = 0;
  int sessions_while_writing = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(90);
  while (true) {
    ASSERT_LT(absl::Now(), deadline)
        << "after " << sessions << " sessions, " << delivered.size() << " events";
    const bool all_written = producer.written() == live.size();
    if (!all_written) ++sessions_while_writing;
    const SubscribeRequest request =
        cursor.empty() ? EdgeRequest(coop::v1::LOG_EDGE_EARLIEST) : CursorRequest(cursor);
    Subscriber subscriber(*stub_, request);
    const size_t take = take_count(random);
    // `take` messages, or all there will be: caught up with a log that no longer grows.
    const auto enough = [&](const Subscriber::Messages& messages) {
      return messages.size() >= take ||
             (producer.written() == live.size() &&
              std::any_of(messages.begin(), messages.end(),
                          [](const auto& m) { return m.has_caught_up(); }));
    };
    const absl::Time session_end = absl::Now() + absl::Seconds(10);
    while (!subscriber.WaitUntil(enough, absl::Milliseconds(100)) && absl::Now() < session_end) {
    }
    subscriber.Cancel();
    ASSERT_TRUE(subscriber.WaitForEnd(kWait).has_value());
    Subscriber::Messages messages = subscriber.messages();
    ASSERT_FALSE(messages.empty()) << "session " << sessions << " received nothing";
    if (messages.size() > take) messages.resize(take);
    taken.insert(taken.end(), messages.begin(), messages.end());
    for (const RecordKey& key : EventKeys(messages)) {
      ASSERT_TRUE(seen.insert(key).second)
          << Show(key) << " delivered again in session " << sessions << " of a resume";
      delivered.push_back(key);
    }
    cursor = CursorOf(messages.back());
    ++sessions;
    // Caught up with a log that no longer grows: everything has been delivered.
    const bool caught_up = std::any_of(messages.begin(), messages.end(),
                                       [](const auto& m) { return m.has_caught_up(); });
    if (all_written && caught_up) break;
  }
  absl::StatusOr<std::vector<kafka::RecordPosition>> live_positions = producer.Join();
  ASSERT_TRUE(live_positions.ok()) << live_positions.status();
  Remember(live, *live_positions);
  EXPECT_TRUE(EventsAsWritten(taken));
  EXPECT_GE(sessions_while_writing, 5) << sessions << " sessions";
  EXPECT_TRUE(
      ExactlyOnceInOrder(delivered, Concat(KeysOf(history_positions), KeysOf(*live_positions))));
}

TEST_F(SubscribeTest, CaughtUpComesOnceAfterTheHistoryAndLiveEventsFollowWithoutGap) {
  const std::vector<Event> events = Events(1600, 12);
  const std::vector<Event> history = Slice(events, 0, 800);
  const std::vector<kafka::RecordPosition> history_positions = Produce(history);
  ASSERT_NO_FATAL_FAILURE(StartServer());

  const std::vector<Event> live = Slice(events, 800, events.size());
  BackgroundProducer producer(*log_, live, 10, absl::Milliseconds(20));
  const absl::Time deadline = absl::Now() + kWait;
  while (producer.written() < 200 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  // Every record below these offsets existed when the call started.
  const std::vector<int64_t> ends_at_start = EndOffsets();
  Subscriber subscriber(*stub_, EdgeRequest(coop::v1::LOG_EDGE_EARLIEST));
  absl::StatusOr<std::vector<kafka::RecordPosition>> live_positions = producer.Join();
  ASSERT_TRUE(live_positions.ok()) << live_positions.status();
  Remember(live, *live_positions);
  ASSERT_TRUE(WaitUntilPast(subscriber, EndOffsets())) << subscriber.events() << " events";

  const Subscriber::Messages messages = subscriber.messages();
  const auto caught_up = std::find_if(messages.begin(), messages.end(),
                                      [](const auto& m) { return m.has_caught_up(); });
  ASSERT_NE(caught_up, messages.end());
  EXPECT_EQ(std::count_if(messages.begin(), messages.end(),
                          [](const auto& m) { return m.has_caught_up(); }),
            1);
  absl::StatusOr<std::vector<int64_t>> caught_up_at =
      CursorOffsets(caught_up->caught_up().cursor(), log_->log_id());
  ASSERT_TRUE(caught_up_at.ok()) << caught_up_at.status();
  EXPECT_TRUE(AtLeast(*caught_up_at, ends_at_start))
      << "CaughtUp at " << absl::StrJoin(*caught_up_at, ",") << ", the log ended at "
      << absl::StrJoin(ends_at_start, ",") << " when the call started";

  const std::vector<RecordKey> before =
      EventKeys(Subscriber::Messages(messages.begin(), caught_up));
  const std::vector<RecordKey> after =
      EventKeys(Subscriber::Messages(caught_up + 1, messages.end()));
  // Every record that existed at the start came before CaughtUp; whatever came before it lies
  // below its cursor, and whatever came after lies at or above it.
  const std::set<RecordKey> before_set(before.begin(), before.end());
  for (const RecordKey& key : Concat(KeysOf(history_positions), KeysOf(*live_positions))) {
    if (key.second < ends_at_start[static_cast<size_t>(key.first)]) {
      ASSERT_TRUE(before_set.contains(key)) << Show(key) << " existed at the start";
    }
  }
  const auto below = [&](const RecordKey& key) {
    return key.second < (*caught_up_at)[static_cast<size_t>(key.first)];
  };
  EXPECT_EQ(std::count_if(before.begin(), before.end(), below),
            static_cast<ptrdiff_t>(before.size()))
      << "events before CaughtUp at or past its cursor";
  EXPECT_EQ(std::count_if(after.begin(), after.end(), below), 0)
      << "events after CaughtUp below its cursor";
  EXPECT_FALSE(after.empty()) << "publishing ended before the subscription caught up";
  EXPECT_TRUE(EventsAsWritten(messages));
  EXPECT_TRUE(ExactlyOnceInOrder(EventKeys(messages),
                                 Concat(KeysOf(history_positions), KeysOf(*live_positions))));
}

TEST_F(SubscribeTest, PositionTokenResumesItsPartitionAndStartsOthersAtItsRecordedTime) {
  const std::vector<Event> events = Events(600, 14);
  const std::vector<kafka::RecordPosition> positions = Produce(events);
  ASSERT_EQ(positions.size(), events.size());
  ASSERT_NO_FATAL_FAILURE(StartServer());

  // Events are recorded 10 ms apart in write order: the events after #300 are exactly those of
  // its partition past it and those of the other partitions recorded after it.
  const size_t at = 300;
  const std::string token =
      cursor::EncodePosition(log_->log_id(), positions[at].partition, positions[at].offset);
  Subscriber subscriber(*stub_, CursorRequest(token));
  ASSERT_TRUE(subscriber.WaitForCaughtUp(kWait));
  EXPECT_TRUE(ExactlyOnceInOrder(
      EventKeys(subscriber.messages()),
      KeysOf(std::vector<kafka::RecordPosition>(positions.begin() + at + 1, positions.end()))));
}

// ---- Several events per message
// ------------------------------------------------------------------

SubscribeRequest Batched(SubscribeRequest request, int32_t events_per_message) {
  request.set_max_events_per_message(events_per_message);
  return request;
}

TEST_F(SubscribeTest, BatchedSubscriptionDeliversEveryEventOnceInOrderEachWithItsCursor) {
  const std::vector<Event> events = Events(1200, 31);
  const std::vector<Event> history = Slice(events, 0, 600);
  const std::vector<Event> live = Slice(events, 600, events.size());
  const std::vector<kafka::RecordPosition> history_positions = Produce(history);
  ASSERT_EQ(history_positions.size(), history.size());
  ASSERT_NO_FATAL_FAILURE(StartServer());
  constexpr int32_t kBatch = 50;
  // History comes through a catch-up reader, the live half from the ring: both are batched.
  Subscriber subscriber(*stub_, Batched(EdgeRequest(coop::v1::LOG_EDGE_EARLIEST), kBatch));
  ASSERT_TRUE(subscriber.WaitForCaughtUp(kWait)) << subscriber.events() << " events";
  BackgroundProducer producer(*log_, live, 40, absl::Milliseconds(10));
  absl::StatusOr<std::vector<kafka::RecordPosition>> live_positions = producer.Join();
  ASSERT_TRUE(live_positions.ok()) << live_positions.status();
  Remember(live, *live_positions);
  ASSERT_TRUE(subscriber.WaitForEvents(events.size(), kWait)) << subscriber.events() << " events";

  const Subscriber::Messages messages = subscriber.messages();
  int largest = 0;
  int caught_up = 0;
  for (const SubscribeResponse& message : messages) {
    EXPECT_FALSE(message.has_event()) << "a batched subscription got a single-event message";
    largest = std::max(largest, message.events().events_size());
    if (message.has_caught_up()) ++caught_up;
  }
  EXPECT_GT(largest, 1) << "no message carried more than one event";
  EXPECT_LE(largest, kBatch);
  EXPECT_EQ(caught_up, 1);
  EXPECT_TRUE(EventsAsWritten(messages));
  const std::vector<RecordKey> all = Concat(KeysOf(history_positions), KeysOf(*live_positions));
  const std::vector<RecordKey> delivered = EventKeys(messages);
  ASSERT_TRUE(ExactlyOnceInOrder(delivered, all));

  // The cursor of an event inside a batch resumes right after that event.
  std::string cursor;
  size_t resumed_after = 0;  // Events delivered up to and including the one of `cursor`.
  size_t counted = 0;
  for (const SubscribeResponse& message : messages) {
    if (cursor.empty() && message.events().events_size() >= 3) {
      cursor = message.events().events(1).cursor();
      resumed_after = counted + 2;
    }
    counted += static_cast<size_t>(message.events().events_size());
  }
  ASSERT_FALSE(cursor.empty()) << "no batch of 3 or more events";
  Subscriber resumed(*stub_, Batched(CursorRequest(cursor), kBatch));
  ASSERT_TRUE(resumed.WaitForCaughtUp(kWait)) << resumed.events() << " events";
  const std::vector<RecordKey> rest(delivered.begin() + static_cast<std::ptrdiff_t>(resumed_after),
                                    delivered.end());
  EXPECT_TRUE(ExactlyOnceInOrder(EventKeys(resumed.messages()), rest));
}

TEST_F(SubscribeTest, MaxEventsPerMessageOutOfRangeIsInvalidArgumentNamingTheField) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  for (const int32_t bad : {-1, 1001}) {
    SCOPED_TRACE(bad);
    Subscriber subscriber(*stub_, Batched(EdgeRequest(coop::v1::LOG_EDGE_LATEST), bad));
    const std::optional<grpc::Status> status = subscriber.WaitForEnd(kWait);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status->error_message();
    EXPECT_THAT(status->error_message(), HasSubstr("between 0 and 1000"));
    EXPECT_THAT(subscriber.messages(), IsEmpty());
    const std::optional<coop::v1::BadRequest> bad_request = BadRequestOf(*status);
    ASSERT_TRUE(bad_request.has_value());
    ASSERT_EQ(bad_request->field_violations_size(), 1);
    EXPECT_EQ(bad_request->field_violations(0).field(), "max_events_per_message");
  }
}

// ---- Filters ------------------------------------------------------------------------------------

void SubscribeTest::ExpectDelivers(const EventFilter& filter,
                                   const std::function<bool(const Event&)>& expected,
                                   const std::string& api_key, const TestServerOptions& options,
                                   std::vector<Event> events) {
  if (events.empty()) {
    events = Events(600, 21);
    for (Event& seed : coop::testing::SeedEvents()) events.push_back(std::move(seed));
  }
  const size_t half = events.size() / 2;
  // History (read by catch-up readers) and live events (from the shared ring) go through
  // different code; both must filter.
  Produce(Slice(events, 0, half));
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  Subscriber subscriber(
      *stub_, WithHeartbeat(EdgeRequest(coop::v1::LOG_EDGE_EARLIEST, filter), absl::Seconds(1)),
      api_key);
  ASSERT_TRUE(subscriber.WaitForCaughtUp(kWait))
      << subscriber.WaitForEnd(absl::ZeroDuration()).value_or(grpc::Status::OK).error_message();
  Produce(Slice(events, half, events.size()));
  ASSERT_TRUE(WaitUntilPast(subscriber, EndOffsets()));

  const std::vector<RecordKey> wanted = WrittenWhere(expected);
  ASSERT_FALSE(wanted.empty()) << "the test data has no event the filter selects";
  ASSERT_LT(wanted.size(), written_.size()) << "the filter selects every event of the test data";
  const Subscriber::Messages messages = subscriber.messages();
  EXPECT_TRUE(ExactlyOnceInOrder(EventKeys(messages), wanted));
  EXPECT_TRUE(EventsAsWritten(messages));
}

TEST_F(SubscribeTest, TypesFilterDeliversOnlyEventsOfThoseTypes) {
  EventFilter filter;
  filter.add_types("coop.v1.HubMilestone");
  filter.add_types("coop.v1.AgreementAmended");
  ExpectDelivers(filter, [](const Event& event) {
    const absl::string_view type = events::PayloadTypeName(event);
    return type == "coop.v1.HubMilestone" || type == "coop.v1.AgreementAmended";
  });
}

TEST_F(SubscribeTest, SubjectsFilterMatchesExactlyAndPrefixesByPrefix) {
  EventFilter filter;
  filter.add_subjects("hub/hub-7");
  filter.add_subjects("region/RU-MOS");
  // "hub/hub-7" must not select hub/hub-70..79.
  filter.add_subject_prefixes("agreement/");
  filter.add_subject_prefixes("regions/KZ-19:");
  ExpectDelivers(filter, [](const Event& event) {
    return event.subject() == "hub/hub-7" || event.subject() == "region/RU-MOS" ||
           absl::StartsWith(event.subject(), "agreement/") ||
           absl::StartsWith(event.subject(), "regions/KZ-19:");
  });
}

TEST_F(SubscribeTest, SubjectsFilterAloneMatchesExactSubjects) {
  EventFilter filter;
  filter.add_subjects("hub/hub-7");
  filter.add_subjects("regions/KZ:RU-MOS");
  ExpectDelivers(filter, [](const Event& event) {
    return event.subject() == "hub/hub-7" || event.subject() == "regions/KZ:RU-MOS";
  });
}

TEST_F(SubscribeTest, RegionsFilterCountryCoversItsSubdivisions) {
  EventFilter filter;
  filter.add_regions()->set_code("KZ");
  int subdivision_only = 0;
  ExpectDelivers(filter, [&subdivision_only](const Event& event) {
    const std::vector<std::string> codes = auth::RegionCodesIn(event);
    const bool country = std::find(codes.begin(), codes.end(), "KZ") != codes.end();
    const bool covered = HasRegionIn(event, "KZ");
    if (covered && !country) ++subdivision_only;
    return covered;
  });
  EXPECT_GT(subdivision_only, 0) << "no event names only a subdivision of KZ";
}

TEST_F(SubscribeTest, RegionsFilterSubdivisionDoesNotCoverItsCountry) {
  EventFilter filter;
  filter.add_regions()->set_code("KZ-19");
  filter.add_regions()->set_code("CN");
  ExpectDelivers(filter, [](const Event& event) {
    const std::vector<std::string> codes = auth::RegionCodesIn(event);
    return std::find(codes.begin(), codes.end(), "KZ-19") != codes.end() ||
           std::find(codes.begin(), codes.end(), "CN") != codes.end();
  });
}

TEST_F(SubscribeTest, PartyIdsFilterDeliversEventsNamingThoseParties) {
  EventFilter filter;
  filter.add_party_ids("kz-ktz");
  filter.add_party_ids("kz-19-akimat");
  ExpectDelivers(filter, [](const Event& event) {
    std::set<std::string> ids;
    CollectPartyIds(event, ids);
    return ids.contains("kz-ktz") || ids.contains("kz-19-akimat");
  });
}

TEST_F(SubscribeTest, FilterCriteriaMustAllMatch) {
  EventFilter filter;
  filter.add_types("coop.v1.TradeUpdate");
  filter.add_regions()->set_code("CN");
  filter.add_subject_prefixes("regions/");
  ExpectDelivers(filter, [](const Event& event) {
    return events::PayloadTypeName(event) == "coop.v1.TradeUpdate" && HasRegionIn(event, "CN") &&
           absl::StartsWith(event.subject(), "regions/");
  });
}

TEST_F(SubscribeTest, FilterBreakingARuleIsInvalidArgumentNamingTheFields) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  EventFilter filter;
  filter.add_types("coop.v1.HubMilestone");
  filter.add_types("coop.v1.NoSuchEvent");
  filter.add_subject_prefixes("hub/ bad");
  filter.add_regions()->set_code("Moscow");
  filter.add_party_ids("Not A Slug");
  Subscriber subscriber(*stub_, EdgeRequest(coop::v1::LOG_EDGE_LATEST, filter));
  const std::optional<grpc::Status> status = subscriber.WaitForEnd(kWait);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status->error_message();
  EXPECT_THAT(subscriber.messages(), IsEmpty());
  const std::optional<coop::v1::BadRequest> bad_request = BadRequestOf(*status);
  ASSERT_TRUE(bad_request.has_value());
  std::vector<std::string> fields;
  for (const auto& violation : bad_request->field_violations()) fields.push_back(violation.field());
  EXPECT_THAT(fields, ElementsAre("filter.types[1]", "filter.subject_prefixes[0]",
                                  "filter.regions[0].code", "filter.party_ids[0]"));
}

// ---- Heartbeats ---------------------------------------------------------------------------------

TEST_F(SubscribeTest, HeartbeatsOnAQuietFilterCarryACursorPastTheSkippedRecords) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  EventFilter nothing;
  nothing.add_types("coop.v1.CulturalEvent");  // The generated events have none.
  Subscriber quiet(
      *stub_, WithHeartbeat(EdgeRequest(coop::v1::LOG_EDGE_LATEST, nothing), absl::Seconds(1)));
  ASSERT_TRUE(quiet.WaitForCaughtUp(kWait));
  BackgroundProducer producer(*log_, Events(300, 31), 30, absl::Milliseconds(250));
  absl::StatusOr<std::vector<kafka::RecordPosition>> positions = producer.Join();
  ASSERT_TRUE(positions.ok()) << positions.status();
  const std::vector<int64_t> ends = EndOffsets();
  ASSERT_TRUE(WaitUntilPast(quiet, ends));
  quiet.Cancel();

  const Subscriber::Messages messages = quiet.messages();
  std::vector<absl::Time> sent;
  std::vector<int64_t> previous(kTestPartitions, 0);
  std::string last_cursor;
  for (const SubscribeResponse& message : messages) {
    ASSERT_FALSE(message.has_event()) << "the filter matches no event";
    const google::protobuf::Timestamp& time = message.has_heartbeat()
                                                  ? message.heartbeat().server_time()
                                                  : message.caught_up().server_time();
    sent.push_back(absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(time)));
    absl::StatusOr<std::vector<int64_t>> offsets = CursorOffsets(CursorOf(message), log_->log_id());
    ASSERT_TRUE(offsets.ok()) << offsets.status();
    EXPECT_TRUE(AtLeast(*offsets, previous)) << "a heartbeat cursor went back";
    previous = *offsets;
    last_cursor = CursorOf(message);
  }
  ASSERT_GE(messages.size(), 3u) << "CaughtUp and at least two heartbeats over ~2.5 s";
  for (size_t i = 1; i < sent.size(); ++i) {
    const absl::Duration gap = sent[i] - sent[i - 1];
    EXPECT_GE(gap, absl::Milliseconds(900)) << "message " << i;
    EXPECT_LE(gap, absl::Seconds(2)) << "message " << i;
  }

  // The last heartbeat is past every skipped record: resuming from it reads none of them, and
  // then goes on with new events.
  Subscriber resumed(*stub_, CursorRequest(last_cursor));
  ASSERT_TRUE(resumed.WaitForCaughtUp(kWait));
  const std::vector<kafka::RecordPosition> more = Produce(Events(5, 32));
  ASSERT_TRUE(resumed.WaitForEvents(5, kWait));
  EXPECT_TRUE(ExactlyOnceInOrder(EventKeys(resumed.messages()), KeysOf(more)));
  EXPECT_TRUE(resumed.messages().front().has_caught_up());
}

// ---- Start points -------------------------------------------------------------------------------

TEST_F(SubscribeTest, LatestStartsWithCaughtUpAndDeliversOnlyLaterEvents) {
  Produce(Events(300, 41));
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::vector<int64_t> ends = EndOffsets();
  Subscriber subscriber(*stub_, EdgeRequest(coop::v1::LOG_EDGE_LATEST));
  ASSERT_TRUE(subscriber.WaitForCaughtUp(kWait));
  const std::vector<kafka::RecordPosition> later = Produce(Events(200, 42));
  ASSERT_TRUE(WaitUntilPast(subscriber, EndOffsets()));

  const Subscriber::Messages messages = subscriber.messages();
  ASSERT_TRUE(messages.front().has_caught_up());
  absl::StatusOr<std::vector<int64_t>> caught_up_at =
      CursorOffsets(messages.front().caught_up().cursor(), log_->log_id());
  ASSERT_TRUE(caught_up_at.ok()) << caught_up_at.status();
  EXPECT_EQ(*caught_up_at, ends);
  EXPECT_TRUE(ExactlyOnceInOrder(EventKeys(messages), KeysOf(later)));
  EXPECT_TRUE(EventsAsWritten(messages));
}

TEST_F(SubscribeTest, StartTimeDeliversEventsRecordedAtOrAfterIt) {
  const absl::Time first = absl::FromUnixMillis(absl::ToUnixMillis(absl::Now() - absl::Hours(1)));
  const std::vector<Event> events = Events(400, 43, first);
  const std::vector<kafka::RecordPosition> positions = Produce(events);
  ASSERT_EQ(positions.size(), events.size());
  ASSERT_NO_FATAL_FAILURE(StartServer());

  const absl::Time start = first + absl::Milliseconds(10 * 250);  // Event #250's recorded_time.
  std::vector<RecordKey> expected;
  for (const kafka::RecordPosition& position : positions) {
    if (position.timestamp >= start) expected.emplace_back(position.partition, position.offset);
  }
  ASSERT_EQ(expected.size(), 150u);
  Subscriber subscriber(*stub_, StartTimeRequest(start));
  ASSERT_TRUE(subscriber.WaitForCaughtUp(kWait));
  const Subscriber::Messages messages = subscriber.messages();
  EXPECT_TRUE(ExactlyOnceInOrder(EventKeys(messages), expected));
  EXPECT_TRUE(EventsAsWritten(messages));
}

// ---- Slow clients and resources -----------------------------------------------------------------

TEST_F(SubscribeTest, StalledSubscriberDoesNotSlowOthersAndLosesNothing) {
  constexpr size_t kRingBytes = size_t{256} << 10;
  ASSERT_NO_FATAL_FAILURE(StartServer({.ring_max_bytes = kRingBytes, .ring_max_entries = 300}));
  std::unique_ptr<coop::v1::Subscriptions::Stub> slow_stub =
      server_->NewStub(/*small_window=*/true);
  Subscriber stalled(*slow_stub, EdgeRequest(coop::v1::LOG_EDGE_LATEST));
  ASSERT_TRUE(stalled.WaitForCaughtUp(kWait));
  stalled.Pause();
  Subscriber fast(*stub_, EdgeRequest(coop::v1::LOG_EDGE_LATEST));
  ASSERT_TRUE(fast.WaitForCaughtUp(kWait));

  std::atomic<bool> sampling{true};
  std::atomic<size_t> max_ring_bytes{0};
  std::thread sampler([&] {
    while (sampling.load()) {
      max_ring_bytes = std::max(max_ring_bytes.load(), server_->tail().ring_bytes());
      absl::SleepFor(absl::Milliseconds(2));
    }
  });
  const absl::Time begin = absl::Now();
  const std::vector<Event> events = Events(2000, 51);
  BackgroundProducer producer(*log_, events, 100, absl::Milliseconds(10));
  absl::StatusOr<std::vector<kafka::RecordPosition>> written = producer.Join();
  ASSERT_TRUE(written.ok()) << written.status();
  const std::vector<RecordKey> all = KeysOf(*written);
  Remember(events, *written);
  ASSERT_TRUE(WaitUntilPast(fast, EndOffsets(), absl::Seconds(15)))
      << "the fast subscriber got " << fast.events() << " of " << all.size();
  const absl::Duration fast_took = absl::Now() - begin;
  sampling = false;
  sampler.join();
  EXPECT_TRUE(ExactlyOnceInOrder(EventKeys(fast.messages()), all));
  EXPECT_LT(stalled.events(), all.size() / 2) << "the stalled client was not held back";
  EXPECT_LE(max_ring_bytes.load(), kRingBytes);
  EXPECT_GT(server_->tail().stats().evicted.load(), 0) << "the ring never filled";
  EXPECT_LT(fast_took, absl::Seconds(10));

  // Reading again, the stalled client gets everything, through a catch-up reader, or is told
  // where to resume.
  stalled.Resume();
  stalled.WaitForEvents(all.size(), kWait);
  std::vector<RecordKey> delivered = EventKeys(stalled.messages());
  if (std::optional<grpc::Status> ended = stalled.WaitForEnd(absl::ZeroDuration())) {
    ASSERT_EQ(ended->error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << ended->error_message();
    const std::optional<std::string> resume = ResumeCursorOf(*ended);
    ASSERT_TRUE(resume.has_value());
    Subscriber resumed(*stub_, CursorRequest(*resume));
    ASSERT_TRUE(WaitUntilPast(resumed, EndOffsets()));
    delivered = Concat(delivered, EventKeys(resumed.messages()));
  }
  EXPECT_TRUE(ExactlyOnceInOrder(delivered, all));
  EXPECT_TRUE(EventsAsWritten(stalled.messages()));
  EXPECT_GE(server_->hub().stats().fell_behind.load(), 1);
}

TEST_F(SubscribeTest, NoFreeCatchUpReaderIsResourceExhaustedWithACursorThatResumes) {
  const std::vector<kafka::RecordPosition> history = Produce(Events(2000, 61));
  ASSERT_EQ(history.size(), 2000u);
  // One reader, held by a client that reads nothing (and is not given up on during the test).
  ASSERT_NO_FATAL_FAILURE(StartServer({.catchup_slots = 1,
                                       .catchup_wait = absl::Milliseconds(500),
                                       .catchup_hold = absl::Seconds(60)}));
  std::unique_ptr<coop::v1::Subscriptions::Stub> slow_stub =
      server_->NewStub(/*small_window=*/true);
  auto holder = std::make_unique<Subscriber>(*slow_stub, EdgeRequest(coop::v1::LOG_EDGE_EARLIEST),
                                             "", /*paused=*/true);
  const absl::Time deadline = absl::Now() + kWait;
  while (server_->hub().stats().catching_up.load() < 1 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(server_->hub().stats().catching_up.load(), 1);

  Subscriber refused(*stub_, EdgeRequest(coop::v1::LOG_EDGE_EARLIEST));
  const std::optional<grpc::Status> status = refused.WaitForEnd(absl::Seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status->error_message();
  const std::optional<coop::v1::RetryInfo> retry = RetryInfoOf(*status);
  ASSERT_TRUE(retry.has_value());
  EXPECT_GT(TimeUtil::DurationToMilliseconds(retry->retry_delay()), 0);
  const std::optional<std::string> resume = ResumeCursorOf(*status);
  ASSERT_TRUE(resume.has_value());

  holder.reset();
  Subscriber resumed(*stub_, CursorRequest(*resume));
  ASSERT_TRUE(resumed.WaitForCaughtUp(kWait));
  EXPECT_TRUE(ExactlyOnceInOrder(
      Concat(EventKeys(refused.messages()), EventKeys(resumed.messages())), KeysOf(history)));
}

TEST_F(SubscribeTest, NoFreeCatchUpReaderForAStartTimeIsResourceExhaustedWithoutAResumeCursor) {
  const absl::Time first = absl::FromUnixMillis(absl::ToUnixMillis(absl::Now() - absl::Hours(1)));
  ASSERT_EQ(Produce(Events(2000, 64, first)).size(), 2000u);
  ASSERT_NO_FATAL_FAILURE(StartServer({.catchup_slots = 1,
                                       .catchup_wait = absl::Milliseconds(500),
                                       .catchup_hold = absl::Seconds(60)}));
  std::unique_ptr<coop::v1::Subscriptions::Stub> slow_stub =
      server_->NewStub(/*small_window=*/true);
  auto holder = std::make_unique<Subscriber>(*slow_stub, EdgeRequest(coop::v1::LOG_EDGE_EARLIEST),
                                             "", /*paused=*/true);
  const absl::Time deadline = absl::Now() + kWait;
  while (server_->hub().stats().catching_up.load() < 1 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(server_->hub().stats().catching_up.load(), 1);

  // Its start time was never turned into offsets, and no cursor can say a time: the client is
  // told to retry, and given no cursor that would start it elsewhere.
  Subscriber refused(*stub_, StartTimeRequest(first + absl::Seconds(5)));
  const std::optional<grpc::Status> status = refused.WaitForEnd(absl::Seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status->error_message();
  EXPECT_TRUE(RetryInfoOf(*status).has_value());
  EXPECT_FALSE(ResumeCursorOf(*status).has_value());
}

TEST_F(SubscribeTest, OpenStreamsPerPrincipalAreBounded) {
  ASSERT_NO_FATAL_FAILURE(StartServer({.max_streams_per_principal = 2}));
  Subscriber first(*stub_, EdgeRequest(coop::v1::LOG_EDGE_LATEST));
  Subscriber second(*stub_, EdgeRequest(coop::v1::LOG_EDGE_LATEST));
  ASSERT_TRUE(first.WaitForCaughtUp(kWait));
  ASSERT_TRUE(second.WaitForCaughtUp(kWait));
  Subscriber third(*stub_, EdgeRequest(coop::v1::LOG_EDGE_LATEST));
  const std::optional<grpc::Status> status = third.WaitForEnd(kWait);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status->error_message();
  EXPECT_THAT(status->error_message(), ::testing::HasSubstr("local-dev"));
  EXPECT_TRUE(RetryInfoOf(*status).has_value());
  // A closed stream frees its place.
  first.Cancel();
  ASSERT_TRUE(first.WaitForEnd(kWait).has_value());
  const absl::Time deadline = absl::Now() + kWait;
  while (server_->hub().stats().active.load() > 1 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  Subscriber fourth(*stub_, EdgeRequest(coop::v1::LOG_EDGE_LATEST));
  EXPECT_TRUE(fourth.WaitForCaughtUp(kWait));
}

TEST_F(SubscribeTest, ACursorPastDeletedRecordsIsOutOfRange) {
  const std::vector<kafka::RecordPosition> positions = Produce(Events(300, 65));
  ASSERT_EQ(positions.size(), 300u);
  std::map<int32_t, int64_t> held;
  for (const kafka::RecordPosition& position : positions) ++held[position.partition];
  ASSERT_GE(held[0], 5);
  absl::StatusOr<std::unique_ptr<kafka::TopicAdmin>> admin =
      kafka::TopicAdmin::Create(log_->kafka());
  ASSERT_TRUE(admin.ok()) << admin.status();
  ASSERT_TRUE((*admin)->DeleteRecordsBefore(log_->topic(), 0, 3, absl::Seconds(30)).ok());
  ASSERT_NO_FATAL_FAILURE(StartServer());

  // A cursor from before the deletion: partition 0 resumes at offset 1, which is gone.
  cursor::Cursor stale{.log = log_->log_id()};
  for (int32_t p = 0; p < kTestPartitions; ++p) stale.next_offsets[p] = p == 0 ? 1 : 0;
  Subscriber subscriber(*stub_, CursorRequest(cursor::EncodeCursor(stale)));
  const std::optional<grpc::Status> status = subscriber.WaitForEnd(kWait);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::OUT_OF_RANGE) << status->error_message();
  EXPECT_THAT(status->error_message(), ::testing::HasSubstr("no longer in the log"));
  // Other partitions may have delivered meanwhile; nothing of partition 0 is past its gap.
  for (const RecordKey& key : EventKeys(subscriber.messages())) {
    EXPECT_NE(key.first, 0) << "delivered " << key.second << " of partition 0 past its gap";
  }
}

TEST_F(SubscribeTest, NoFreeCatchUpReaderForAPositionTokenResumesAtThatPosition) {
  const std::vector<kafka::RecordPosition> history = Produce(Events(2000, 62));
  ASSERT_EQ(history.size(), 2000u);
  ASSERT_NO_FATAL_FAILURE(StartServer({.catchup_slots = 1,
                                       .catchup_wait = absl::Milliseconds(500),
                                       .catchup_hold = absl::Seconds(60)}));
  std::unique_ptr<coop::v1::Subscriptions::Stub> slow_stub =
      server_->NewStub(/*small_window=*/true);
  auto holder = std::make_unique<Subscriber>(*slow_stub, EdgeRequest(coop::v1::LOG_EDGE_EARLIEST),
                                             "", /*paused=*/true);
  const absl::Time deadline = absl::Now() + kWait;
  while (server_->hub().stats().catching_up.load() < 1 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(server_->hub().stats().catching_up.load(), 1);

  // A client resuming after event #1500 (its position token) finds no reader free.
  const size_t at = 1500;
  Subscriber refused(*stub_, CursorRequest(cursor::EncodePosition(
                                 log_->log_id(), history[at].partition, history[at].offset)));
  const std::optional<grpc::Status> status = refused.WaitForEnd(absl::Seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status->error_message();
  const std::optional<std::string> resume = ResumeCursorOf(*status);
  ASSERT_TRUE(resume.has_value());

  holder.reset();
  Subscriber resumed(*stub_, CursorRequest(*resume));
  ASSERT_TRUE(resumed.WaitForCaughtUp(kWait));
  EXPECT_TRUE(ExactlyOnceInOrder(
      Concat(EventKeys(refused.messages()), EventKeys(resumed.messages())),
      KeysOf(std::vector<kafka::RecordPosition>(history.begin() + at + 1, history.end()))));
}

// ---- Access -------------------------------------------------------------------------------------

TEST_F(SubscribeTest, ScopedSubscriberReceivesOnlyEventsInItsScope) {
  // almaty-region-akimat reads MemorandumSigned and HubMilestone about KZ-19.
  EventFilter filter;
  filter.add_types("coop.v1.MemorandumSigned");
  filter.add_types("coop.v1.HubMilestone");
  filter.add_regions()->set_code("KZ-19");
  const auto in_scope = [](const Event& event) {
    const absl::string_view type = events::PayloadTypeName(event);
    const std::vector<std::string> codes = auth::RegionCodesIn(event);
    return (type == "coop.v1.MemorandumSigned" || type == "coop.v1.HubMilestone") &&
           std::find(codes.begin(), codes.end(), "KZ-19") != codes.end();
  };
  ExpectDelivers(filter, in_scope, auth::testing::kAkimatKey, {.anonymous_principal = ""});
  EXPECT_FALSE(WrittenWhere([](const Event& event) {
                 return events::PayloadTypeName(event) == "coop.v1.MemorandumSigned";
               }).empty());
}

TEST_F(SubscribeTest, CorrectionsAreDeliveredOnlyWhenTheCorrectedTypeIsInScope) {
  // A filter for EventCorrected passes the scope check but selects corrections of every type:
  // the stream itself must hold back those of types outside the scope.
  constexpr char kKey[] = "corrections-reader-test-key";
  const std::string policy = absl::StrCat(R"json({"principals": [
    {"id": "kz-19-hub-auditor",
     "display_name": "Hub auditor of Almaty Region",
     "api_key_sha256_hashes": [")json",
                                          auth::Sha256Hex(kKey), R"json("],
     "subscribe": {"event_types": ["coop.v1.EventCorrected", "coop.v1.HubMilestone"],
                   "regions": ["KZ-19"]}}
  ]})json");
  EventFilter filter;
  filter.add_types("coop.v1.EventCorrected");
  filter.add_regions()->set_code("KZ-19");
  int held_back = 0;
  ExpectDelivers(
      filter,
      [&held_back](const Event& event) {
        if (!event.has_event_corrected()) return false;
        const std::vector<std::string> codes = auth::RegionCodesIn(event);
        if (std::find(codes.begin(), codes.end(), "KZ-19") == codes.end()) return false;
        if (event.event_corrected().has_hub_milestone()) return true;
        ++held_back;
        return false;
      },
      kKey, {.anonymous_principal = "", .policy_json = policy},
      Events(600, 22, absl::FromCivil(absl::CivilSecond(2025, 9, 10, 9, 0, 0), absl::UTCTimeZone()),
             /*correction_percent=*/20));
  EXPECT_GT(held_back, 0) << "no correction of another type about KZ-19 in the test data";
}

TEST_F(SubscribeTest, FilterReachingBeyondTheScopeIsPermissionDenied) {
  ASSERT_NO_FATAL_FAILURE(StartServer({.anonymous_principal = ""}));
  struct Case {
    std::string name;
    std::string key;
    EventFilter filter;
  };
  std::vector<Case> cases;
  {
    Case c{.name = "every event", .key = auth::testing::kAkimatKey};
    cases.push_back(c);
  }
  {
    Case c{.name = "a type outside the scope", .key = auth::testing::kAkimatKey};
    c.filter.add_types("coop.v1.TradeUpdate");
    c.filter.add_regions()->set_code("KZ-19");
    cases.push_back(c);
  }
  {
    Case c{.name = "the country of the scope's region", .key = auth::testing::kAkimatKey};
    c.filter.add_types("coop.v1.HubMilestone");
    c.filter.add_regions()->set_code("KZ");
    cases.push_back(c);
  }
  {
    Case c{.name = "every region", .key = auth::testing::kAkimatKey};
    c.filter.add_types("coop.v1.HubMilestone");
    cases.push_back(c);
  }
  {
    Case c{.name = "a principal that does not read", .key = auth::testing::kEmbassyKey};
    c.filter.add_types("coop.v1.CulturalEvent");
    c.filter.add_regions()->set_code("KZ");
    cases.push_back(c);
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Subscriber subscriber(*stub_, EdgeRequest(coop::v1::LOG_EDGE_LATEST, c.filter), c.key);
    const std::optional<grpc::Status> status = subscriber.WaitForEnd(kWait);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(status->error_code(), grpc::StatusCode::PERMISSION_DENIED) << status->error_message();
    EXPECT_THAT(subscriber.messages(), IsEmpty());
  }
}

TEST_F(SubscribeTest, MissingOrUnknownCredentialsAreUnauthenticated) {
  ASSERT_NO_FATAL_FAILURE(StartServer({.anonymous_principal = ""}));
  for (const std::string key : {"", "not-a-known-key"}) {
    SCOPED_TRACE(absl::StrCat("key '", key, "'"));
    Subscriber subscriber(*stub_, EdgeRequest(coop::v1::LOG_EDGE_LATEST), key);
    const std::optional<grpc::Status> status = subscriber.WaitForEnd(kWait);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(status->error_code(), grpc::StatusCode::UNAUTHENTICATED) << status->error_message();
    EXPECT_THAT(subscriber.messages(), IsEmpty());
  }
  EXPECT_EQ(server_->hub().stats().active.load(), 0);
}

// ---- Ending -------------------------------------------------------------------------------------

TEST_F(SubscribeTest, ClientCancelEndsTheStreamAndFreesIt) {
  Produce(Events(500, 71));
  ASSERT_NO_FATAL_FAILURE(StartServer());
  Subscriber live(*stub_, EdgeRequest(coop::v1::LOG_EDGE_LATEST));
  Subscriber reading(*stub_, EdgeRequest(coop::v1::LOG_EDGE_EARLIEST));
  ASSERT_TRUE(live.WaitForCaughtUp(kWait));
  ASSERT_TRUE(reading.WaitForEvents(10, kWait));
  EXPECT_EQ(server_->hub().stats().active.load(), 2);

  live.Cancel();
  reading.Cancel();
  for (Subscriber* subscriber : {&live, &reading}) {
    const std::optional<grpc::Status> status = subscriber->WaitForEnd(kWait);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(status->error_code(), grpc::StatusCode::CANCELLED);
  }
  // The call is forgotten at once; the catch-up reader lets go of it at its next look (after
  // a poll of at most 100 ms).
  const auto freed = [this] {
    return server_->hub().stats().active.load() == 0 && server_->hub().stats().live.load() == 0 &&
           server_->hub().stats().catching_up.load() == 0;
  };
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (!freed() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(server_->hub().stats().active.load(), 0);
  EXPECT_EQ(server_->hub().stats().live.load(), 0);
  EXPECT_EQ(server_->hub().stats().catching_up.load(), 0);
}

TEST_F(SubscribeTest, ShutdownEndsStreamsWithUnavailableAndACursorThatResumes) {
  const std::vector<kafka::RecordPosition> history = Produce(Events(1500, 81));
  ASSERT_NO_FATAL_FAILURE(StartServer());
  // One subscription in history with messages queued that its client has not taken, one live.
  std::unique_ptr<coop::v1::Subscriptions::Stub> slow_stub =
      server_->NewStub(/*small_window=*/true);
  Subscriber reading(*slow_stub, EdgeRequest(coop::v1::LOG_EDGE_EARLIEST));
  ASSERT_TRUE(reading.WaitForEvents(100, kWait));
  reading.Pause();
  Subscriber live(*stub_, EdgeRequest(coop::v1::LOG_EDGE_LATEST));
  ASSERT_TRUE(live.WaitForCaughtUp(kWait));
  const std::vector<kafka::RecordPosition> while_up = Produce(Events(50, 82));
  ASSERT_TRUE(live.WaitForEvents(50, kWait));
  absl::SleepFor(absl::Milliseconds(300));  // Let the paused one's queue fill.

  std::thread shutdown([&] { server_->hub().Shutdown(absl::Now() + kWait); });
  absl::SleepFor(absl::Milliseconds(200));
  reading.Resume();
  std::vector<std::string> cursors;
  for (Subscriber* subscriber : {&reading, &live}) {
    const std::optional<grpc::Status> status = subscriber->WaitForEnd(kWait);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(status->error_code(), grpc::StatusCode::UNAVAILABLE) << status->error_message();
    const std::optional<std::string> resume = ResumeCursorOf(*status);
    ASSERT_TRUE(resume.has_value());
    cursors.push_back(*resume);
  }
  shutdown.join();
  EXPECT_EQ(server_->hub().stats().active.load(), 0);
  EXPECT_LT(reading.events(), history.size()) << "the paused subscription read everything";

  // A new server over the same log, with more written meanwhile.
  server_.reset();
  const std::vector<kafka::RecordPosition> while_down = Produce(Events(100, 83));
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::vector<int64_t> ends = EndOffsets();
  Subscriber reading_again(*stub_, CursorRequest(cursors[0]));
  Subscriber live_again(*stub_, CursorRequest(cursors[1]));
  ASSERT_TRUE(WaitUntilPast(reading_again, ends));
  ASSERT_TRUE(WaitUntilPast(live_again, ends));
  EXPECT_TRUE(
      ExactlyOnceInOrder(Concat(EventKeys(reading.messages()), EventKeys(reading_again.messages())),
                         Concat(Concat(KeysOf(history), KeysOf(while_up)), KeysOf(while_down))));
  EXPECT_TRUE(
      ExactlyOnceInOrder(Concat(EventKeys(live.messages()), EventKeys(live_again.messages())),
                         Concat(KeysOf(while_up), KeysOf(while_down))));
}

// ---- Bad requests -------------------------------------------------------------------------------

TEST_F(SubscribeTest, BadRequestsAreInvalidArgumentNamingTheField) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  struct Case {
    std::string name;
    SubscribeRequest request;
    std::string field;
  };
  std::vector<Case> cases;
  cases.push_back({"no start", SubscribeRequest(), "start"});
  cases.push_back({"edge unspecified", EdgeRequest(coop::v1::LOG_EDGE_UNSPECIFIED), "edge"});
  cases.push_back({"heartbeat below 1 s",
                   WithHeartbeat(EdgeRequest(coop::v1::LOG_EDGE_LATEST), absl::Milliseconds(999)),
                   "heartbeat_interval"});
  cases.push_back({"heartbeat above 300 s",
                   WithHeartbeat(EdgeRequest(coop::v1::LOG_EDGE_LATEST), absl::Seconds(301)),
                   "heartbeat_interval"});
  cases.push_back({"malformed cursor", CursorRequest("not a cursor"), "cursor"});
  cases.push_back({"cursor of another cluster",
                   CursorRequest(cursor::EncodeCursor(
                       {.log = {.cluster_id = "another-cluster", .topic = log_->topic()},
                        .next_offsets = {{0, 1}}})),
                   "cursor"});
  cases.push_back({"cursor of another topic",
                   CursorRequest(cursor::EncodeCursor(
                       {.log = {.cluster_id = log_->log_id().cluster_id, .topic = "coop.events"},
                        .next_offsets = {{0, 1}}})),
                   "cursor"});
  cases.push_back({"cursor naming a partition the log lacks",
                   CursorRequest(cursor::EncodeCursor(
                       {.log = log_->log_id(), .next_offsets = {{0, 0}, {kTestPartitions, 0}}})),
                   "cursor"});
  cases.push_back(
      {"start_time in the future", StartTimeRequest(absl::Now() + absl::Minutes(5)), "start_time"});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Subscriber subscriber(*stub_, c.request);
    const std::optional<grpc::Status> status = subscriber.WaitForEnd(kWait);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status->error_message();
    EXPECT_THAT(subscriber.messages(), IsEmpty());
    const std::optional<coop::v1::BadRequest> bad_request = BadRequestOf(*status);
    ASSERT_TRUE(bad_request.has_value());
    ASSERT_EQ(bad_request->field_violations_size(), 1);
    EXPECT_EQ(bad_request->field_violations(0).field(), c.field);
  }
  EXPECT_EQ(server_->hub().stats().active.load(), 0);
}

TEST_F(SubscribeTest, HeartbeatIntervalBoundsAreAccepted) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  for (const absl::Duration interval : {absl::Seconds(1), absl::Seconds(300)}) {
    SCOPED_TRACE(absl::FormatDuration(interval));
    Subscriber subscriber(*stub_, WithHeartbeat(EdgeRequest(coop::v1::LOG_EDGE_LATEST), interval));
    EXPECT_TRUE(subscriber.WaitForCaughtUp(kWait))
        << subscriber.WaitForEnd(absl::ZeroDuration()).value_or(grpc::Status::OK).error_message();
  }
}

}  // namespace
}  // namespace coop::stream::testing
