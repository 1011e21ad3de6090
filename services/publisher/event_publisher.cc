#include "services/publisher/event_publisher.h"

#include <atomic>
#include <deque>
#include <map>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/events/record_codec.h"
#include "common/kafka/consumer.h"
#include "common/kafka/producer.h"
#include "common/kafka/topic_admin.h"
#include "common/kafka/transactional_producer.h"
#include "common/rpc/status_conversion.h"
#include "common/status_macros.h"
#include "google/protobuf/util/time_util.h"
#include "services/publisher/dedup_index.h"
#include "services/publisher/log_follower.h"

namespace coop::publisher {
namespace {

using coop::v1::Event;

constexpr absl::Duration kQueueFullRetryDelay = absl::Milliseconds(500);

// The answer when the queue in front of Kafka is full (Kafka slow or away): nothing was
// written, come back soon.
absl::Status QueueFull(int64_t limit) {
  return rpc::WithRetryDelay(
      absl::ResourceExhaustedError(absl::StrCat("the publisher's Kafka queue is full (", limit,
                                                " events); the event was not written: retry "
                                                "after the delay")),
      kQueueFullRetryDelay);
}
using coop::v1::PublishAck;
using google::protobuf::util::TimeUtil;

// One Publish call waiting for its outcome. Answered exactly once: by the delivery report, or
// by the deadline watcher when the deadline comes first.
struct PendingCall {
  std::atomic<bool> answered{false};
  EventPublisher::AckCallback done;

  void Answer(absl::StatusOr<PublishAck> result) {
    if (!answered.exchange(true, std::memory_order_acq_rel)) std::move(done)(std::move(result));
  }
};

// Answers calls whose deadline passed before Kafka confirmed them. One thread.
class DeadlineWatcher {
 public:
  DeadlineWatcher() : thread_([this] { Run(); }) {}
  ~DeadlineWatcher() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    thread_.join();
  }

  // Returns a key for Remove().
  std::pair<absl::Time, uint64_t> Add(absl::Time deadline, std::shared_ptr<PendingCall> call) {
    absl::MutexLock lock(&mu_);
    const std::pair<absl::Time, uint64_t> key{deadline, next_id_++};
    calls_.emplace(key, std::move(call));
    return key;
  }
  void Remove(const std::pair<absl::Time, uint64_t>& key) {
    absl::MutexLock lock(&mu_);
    calls_.erase(key);
  }

 private:
  void Run() {
    while (true) {
      std::vector<std::shared_ptr<PendingCall>> expired;
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) return;
        const absl::Time now = absl::Now();
        while (!calls_.empty() && calls_.begin()->first.first <= now) {
          expired.push_back(std::move(calls_.begin()->second));
          calls_.erase(calls_.begin());
        }
        if (expired.empty()) {
          const absl::Time wake =
              calls_.empty() ? now + absl::Milliseconds(50)
                             : std::min(calls_.begin()->first.first, now + absl::Milliseconds(50));
          mu_.AwaitWithDeadline(absl::Condition(&stopping_), wake);
        }
      }
      for (auto& call : expired) {
        call->Answer(absl::UnavailableError(
            "Kafka did not confirm the event before the call's deadline; it may still be "
            "recorded: retry with the same id"));
      }
    }
  }

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::pair<absl::Time, uint64_t>, std::shared_ptr<PendingCall>> calls_
      ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace

absl::Status EventPublisherConfig::Validate() const {
  COOP_RETURN_IF_ERROR(kafka.Validate());
  if (events_topic.empty()) return absl::InvalidArgumentError("events_topic: must not be empty");
  if (dedup_window < absl::Minutes(1)) {
    return absl::InvalidArgumentError("dedup_window: must be at least 1m");
  }
  if (instance_id.empty()) return absl::InvalidArgumentError("instance_id: must not be empty");
  if (delivery_timeout < absl::Seconds(1)) {
    return absl::InvalidArgumentError("delivery_timeout: must be at least 1s");
  }
  if (max_queued_records < 1) {
    return absl::InvalidArgumentError("max_queued_records: must be at least 1");
  }
  return absl::OkStatus();
}

struct EventPublisher::Impl {
  // An event ready to be claimed and written: digested and encoded on the caller's thread, so
  // the sync thread (cross-instance dedup) only claims and hands it to the producer.
  struct Prepared {
    std::string source;
    std::string id;
    EventDigest digest{};
    absl::Time recorded_time;
    absl::StatusOr<kafka::KafkaRecord> record;
    absl::Time deadline;
    AckCallback done;
  };

  EventPublisherConfig config;
  cursor::LogId log;
  DedupIndex index{absl::Hours(1)};
  // Destruction order (reverse of declaration): the producers flush and answer every call
  // before the watcher and the follower stop.
  std::unique_ptr<LogFollower> follower;
  DeadlineWatcher watcher;
  std::unique_ptr<kafka::TransactionalProducer> batch_producer;
  std::unique_ptr<kafka::Producer> producer;

  // Cross-instance dedup: events wait here until the follower has read the log up to the end
  // offsets taken after they arrived. One thread serves them in groups.
  std::unique_ptr<kafka::Consumer> end_reader;  // Used by sync_thread only.
  absl::Mutex sync_mu;
  std::deque<Prepared> sync_queue ABSL_GUARDED_BY(sync_mu);
  // Events in sync_queue plus those the sync thread holds: what max_queued_records bounds.
  int64_t sync_waiting ABSL_GUARDED_BY(sync_mu) = 0;
  bool sync_stopping ABSL_GUARDED_BY(sync_mu) = false;
  std::thread sync_thread;

  explicit Impl(const EventPublisherConfig& c) : config(c), index(c.dedup_window) {}
  ~Impl() { StopSync(); }

  void StopSync() {
    if (!sync_thread.joinable()) return;
    {
      absl::MutexLock lock(&sync_mu);
      sync_stopping = true;
    }
    sync_thread.join();
  }

  // Stamps, digests and encodes `event`.
  Prepared Prepare(Event event, absl::Time deadline, AckCallback done) const;
  // Claims and writes a prepared event (the log is known to be read far enough).
  void Submit(Prepared prepared);

  void SyncLoop() {
    while (true) {
      std::deque<Prepared> group;
      {
        absl::MutexLock lock(&sync_mu);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sync_mu) {
          return sync_stopping || !sync_queue.empty();
        };
        sync_mu.Await(absl::Condition(&ready));
        if (sync_stopping) {
          group.swap(sync_queue);
          for (Prepared& waiting : group) {
            std::move(waiting.done)(absl::UnavailableError(
                "the publisher is shutting down; the event was not written: retry"));
          }
          return;
        }
        group.swap(sync_queue);
      }
      absl::Time first_deadline = absl::InfiniteFuture();
      for (const Prepared& waiting : group) {
        first_deadline = std::min(first_deadline, waiting.deadline);
      }
      absl::StatusOr<std::map<int32_t, int64_t>> ends =
          end_reader->EndOffsets(config.events_topic, follower->partitions(),
                                 std::max(first_deadline - absl::Now(), absl::Milliseconds(1)));
      absl::Status synced = ends.status();
      if (ends.ok() && !follower->AwaitReadUpTo(*ends, first_deadline)) {
        synced = absl::UnavailableError("reading the event log to check for duplicates timed out");
      }
      if (synced.ok()) {
        const int64_t handed_on = static_cast<int64_t>(group.size());
        for (Prepared& waiting : group) {
          Submit(std::move(waiting));
        }
        absl::MutexLock lock(&sync_mu);
        sync_waiting -= handed_on;
        continue;
      }
      // Kafka is away: answer what is due, keep the rest for the next try.
      std::deque<Prepared> keep;
      const absl::Time now = absl::Now();
      for (Prepared& waiting : group) {
        if (waiting.deadline <= now + absl::Milliseconds(100)) {
          std::move(waiting.done)(absl::UnavailableError(
              absl::StrCat("cannot check the event log for duplicates (", synced.message(),
                           "); the event was not written: retry with the same id")));
        } else {
          keep.push_back(std::move(waiting));
        }
      }
      absl::SleepFor(absl::Milliseconds(100));
      absl::MutexLock lock(&sync_mu);
      sync_waiting -= static_cast<int64_t>(group.size() - keep.size());
      for (auto it = keep.rbegin(); it != keep.rend(); ++it) {
        sync_queue.push_front(std::move(*it));
      }
    }
  }

  PublishAck MakeAck(const std::string& id, int32_t partition, int64_t offset, absl::Time recorded,
                     bool duplicate) const {
    PublishAck ack;
    ack.set_event_id(id);
    ack.mutable_position()->set_partition(partition);
    ack.mutable_position()->set_offset(offset);
    ack.mutable_position()->set_token(cursor::EncodePosition(log, partition, offset));
    *ack.mutable_recorded_time() = TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(recorded));
    ack.set_duplicate(duplicate);
    return ack;
  }

  // The answer for an event the index already holds.
  absl::StatusOr<PublishAck> AnswerRecorded(absl::string_view source, absl::string_view id,
                                            const EventDigest& digest,
                                            const RecordedEvent& recorded) const {
    if (recorded.digest != digest) {
      return absl::AlreadyExistsError(absl::StrCat(
          "event id '", id, "' of ", source,
          " was already recorded with different content at partition ", recorded.partition,
          " offset ", recorded.offset, "; use a new id for a new event"));
    }
    return MakeAck(std::string(id), recorded.partition, recorded.offset, recorded.recorded_time,
                   true);
  }
};

EventPublisher::EventPublisher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EventPublisher::~EventPublisher() = default;

absl::StatusOr<std::unique_ptr<EventPublisher>> EventPublisher::Create(
    const EventPublisherConfig& config) {
  COOP_RETURN_IF_ERROR(config.Validate());
  auto impl = std::make_unique<Impl>(config);

  COOP_ASSIGN_OR_RETURN(std::unique_ptr<kafka::TopicAdmin> admin,
                        kafka::TopicAdmin::Create(config.kafka));
  COOP_ASSIGN_OR_RETURN(impl->log.cluster_id, admin->ClusterId(config.startup_timeout));
  impl->log.topic = config.events_topic;

  kafka::KafkaConfig producer_config = config.kafka;
  // Ours unless the operator set them.
  producer_config.properties.try_emplace(
      "message.timeout.ms", absl::StrCat(absl::ToInt64Milliseconds(config.delivery_timeout)));
  producer_config.properties.try_emplace("queue.buffering.max.messages",
                                         absl::StrCat(config.max_queued_records));
  COOP_ASSIGN_OR_RETURN(impl->producer, kafka::Producer::Create(producer_config));
  COOP_ASSIGN_OR_RETURN(impl->batch_producer,
                        kafka::TransactionalProducer::Create(
                            producer_config, absl::StrCat("coop-publisher-", config.instance_id),
                            config.startup_timeout));
  COOP_ASSIGN_OR_RETURN(impl->follower, LogFollower::Start(config.kafka, config.events_topic,
                                                           &impl->index, config.startup_timeout));
  if (config.cross_instance_dedup) {
    COOP_ASSIGN_OR_RETURN(impl->end_reader, kafka::Consumer::Create(config.kafka, {}));
    // Looks the topic up once so that the client knows its leaders: offsets_for_times does not
    // fetch metadata for a topic the client has never seen.
    COOP_RETURN_IF_ERROR(
        impl->end_reader->PartitionCount(config.events_topic, config.startup_timeout).status());
    impl->sync_thread = std::thread([raw = impl.get()] { raw->SyncLoop(); });
  }
  return std::unique_ptr<EventPublisher>(new EventPublisher(std::move(impl)));
}

const cursor::LogId& EventPublisher::log() const { return impl_->log; }
int64_t EventPublisher::QueueDepth() const { return impl_->producer->OutstandingRecords(); }

absl::Status EventPublisher::health() const {
  if (impl_->batch_producer == nullptr) return absl::OkStatus();
  absl::Status batches = impl_->batch_producer->health();
  if (batches.ok()) return batches;
  return absl::Status(batches.code(),
                      absl::StrCat(batches.message(), " (is --instance_id ",
                                   impl_->config.instance_id, " used by another publisher?)"));
}

void EventPublisher::Publish(Event event, absl::Time deadline, AckCallback done) {
  Impl::Prepared prepared = impl_->Prepare(std::move(event), deadline, std::move(done));
  if (!impl_->config.cross_instance_dedup) {
    impl_->Submit(std::move(prepared));
    return;
  }
  {
    absl::MutexLock lock(&impl_->sync_mu);
    // Bounded like the producer queue: while Kafka is away, events wait here, not there.
    if (impl_->sync_waiting < impl_->config.max_queued_records) {
      ++impl_->sync_waiting;
      impl_->sync_queue.push_back(std::move(prepared));
      return;
    }
  }
  std::move(prepared.done)(QueueFull(impl_->config.max_queued_records));
}

EventPublisher::Impl::Prepared EventPublisher::Impl::Prepare(Event event, absl::Time deadline,
                                                             AckCallback done) const {
  Prepared prepared;
  prepared.recorded_time = absl::FromUnixMillis(absl::ToUnixMillis(absl::Now()));
  event.clear_recorded_time();  // The client's value is ignored; the digest leaves it out.
  prepared.digest = DigestEventInPlace(&event);
  *event.mutable_recorded_time() =
      TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(prepared.recorded_time));
  prepared.record = events::EncodeRecord(event);
  prepared.source = std::move(*event.mutable_source());
  prepared.id = std::move(*event.mutable_id());
  prepared.deadline = deadline;
  prepared.done = std::move(done);
  return prepared;
}

void EventPublisher::Impl::Submit(Prepared prepared) {
  Impl& impl = *this;
  auto call = std::make_shared<PendingCall>();
  call->done = std::move(prepared.done);
  auto answer_now = [&call](absl::StatusOr<PublishAck> result) { call->Answer(std::move(result)); };
  const std::string& source = prepared.source;
  const std::string& id = prepared.id;

  if (!prepared.record.ok()) {
    answer_now(prepared.record.status());
    return;
  }
  RecordedEvent recorded;
  switch (impl.index.TryClaim(source, id, &recorded)) {
    case DedupIndex::Claim::kRecorded:
      answer_now(impl.AnswerRecorded(source, id, prepared.digest, recorded));
      return;
    case DedupIndex::Claim::kInFlight:
      answer_now(absl::UnavailableError(
          absl::StrCat("event id '", id,
                       "' is being recorded by another call right now; retry shortly with "
                       "the same id")));
      return;
    case DedupIndex::Claim::kClaimed:
      break;
  }

  // The producer fails a record itself after delivery_timeout; the watcher is needed only for a
  // deadline that comes before that.
  std::optional<std::pair<absl::Time, uint64_t>> watch_key;
  if (prepared.deadline < absl::Now() + impl.config.delivery_timeout + absl::Seconds(1)) {
    watch_key = impl.watcher.Add(prepared.deadline, call);
  }
  absl::Status queued = impl.producer->Produce(
      impl.config.events_topic, *prepared.record,
      [&impl, call, watch_key, source = prepared.source, id = prepared.id,
       recorded_time = prepared.recorded_time,
       digest = prepared.digest](absl::StatusOr<kafka::RecordPosition> position) {
        if (watch_key.has_value()) impl.watcher.Remove(*watch_key);
        if (!position.ok()) {
          impl.index.Release(source, id);
          call->Answer(position.status());
          return;
        }
        impl.index.Record(source, id,
                          RecordedEvent{.digest = digest,
                                        .partition = position->partition,
                                        .offset = position->offset,
                                        .recorded_time = recorded_time});
        call->Answer(impl.MakeAck(id, position->partition, position->offset, recorded_time, false));
      });
  if (!queued.ok()) {
    if (watch_key.has_value()) impl.watcher.Remove(*watch_key);
    impl.index.Release(source, id);
    if (queued.code() == absl::StatusCode::kResourceExhausted) {
      queued = QueueFull(impl.config.max_queued_records);
    }
    answer_now(queued);
  }
}

absl::StatusOr<std::vector<PublishAck>> EventPublisher::PublishBatch(std::vector<Event> events,
                                                                     absl::Time deadline) {
  Impl& impl = *impl_;
  const absl::Time now = absl::Now();
  std::vector<std::optional<PublishAck>> acks(events.size());
  std::vector<size_t> claimed;
  auto release_claimed = [&] {
    for (size_t i : claimed) impl.index.Release(events[i].source(), events[i].id());
  };

  for (size_t i = 0; i < events.size(); ++i) {
    Event& event = events[i];
    *event.mutable_recorded_time() = TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(now));
    RecordedEvent recorded;
    switch (impl.index.TryClaim(event.source(), event.id(), &recorded)) {
      case DedupIndex::Claim::kRecorded: {
        absl::StatusOr<PublishAck> ack =
            impl.AnswerRecorded(event.source(), event.id(), DigestEvent(event), recorded);
        if (!ack.ok()) {
          release_claimed();
          return absl::Status(ack.status().code(),
                              absl::StrCat("events[", i, "]: ", ack.status().message()));
        }
        acks[i] = *std::move(ack);
        break;
      }
      case DedupIndex::Claim::kInFlight:
        release_claimed();
        return absl::UnavailableError(absl::StrCat(
            "events[", i, "]: event id '", event.id(),
            "' is being recorded by another call right now; retry shortly with the same ids"));
      case DedupIndex::Claim::kClaimed:
        claimed.push_back(i);
        break;
    }
  }

  std::vector<kafka::KafkaRecord> records;
  for (size_t i : claimed) {
    absl::StatusOr<kafka::KafkaRecord> record = events::EncodeRecord(events[i]);
    if (!record.ok()) {
      release_claimed();
      return absl::Status(record.status().code(),
                          absl::StrCat("events[", i, "]: ", record.status().message()));
    }
    records.push_back(*std::move(record));
  }
  if (!records.empty()) {
    absl::StatusOr<std::vector<kafka::RecordPosition>> positions =
        impl.batch_producer->WriteAll(impl.config.events_topic, records, deadline - absl::Now());
    if (!positions.ok()) {
      release_claimed();
      return positions.status();
    }
    const absl::Time recorded = absl::FromUnixMillis(absl::ToUnixMillis(now));
    for (size_t k = 0; k < claimed.size(); ++k) {
      const Event& event = events[claimed[k]];
      const kafka::RecordPosition& position = (*positions)[k];
      impl.index.Record(event.source(), event.id(),
                        RecordedEvent{.digest = DigestEvent(event),
                                      .partition = position.partition,
                                      .offset = position.offset,
                                      .recorded_time = recorded});
      acks[claimed[k]] =
          impl.MakeAck(event.id(), position.partition, position.offset, recorded, false);
    }
  }
  std::vector<PublishAck> result;
  result.reserve(acks.size());
  for (auto& ack : acks) result.push_back(*std::move(ack));
  return result;
}

}  // namespace coop::publisher
