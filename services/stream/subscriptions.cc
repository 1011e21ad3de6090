#include "services/stream/subscriptions.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/auth/scope.h"
#include "common/events/record_codec.h"
#include "common/kafka/consumer.h"
#include "common/rpc/status_conversion.h"
#include "common/status_macros.h"
#include "google/protobuf/util/time_util.h"
#include "spdlog/spdlog.h"

namespace coop::stream {

namespace {

using coop::v1::SubscribeRequest;
using coop::v1::SubscribeResponse;
using google::protobuf::util::TimeUtil;

// A subscription's own queue (catch-up): at most this many messages and bytes.
constexpr size_t kMaxQueued = 64;
constexpr size_t kMaxQueuedBytes = size_t{256} << 10;
// Ring entries a live subscription takes per look.
constexpr size_t kSliceEntries = 64;
// How often heartbeats and waits for a reader are checked.
constexpr absl::Duration kTick = absl::Milliseconds(100);
constexpr absl::Duration kKafkaTimeout = absl::Seconds(30);

void SetEventBytes(coop::v1::StreamedEvent& streamed, const std::string& value) {
  events::SetEventField(streamed, coop::v1::StreamedEvent::kEventFieldNumber, value);
}

google::protobuf::Timestamp ProtoTime(absl::Time time) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(time));
}

}  // namespace

// How a subscription starts; resolved to offsets by a catch-up reader when it needs Kafka.
struct StartSpec {
  enum class Kind { kOffsets, kTime, kPositionToken };
  Kind kind = Kind::kOffsets;
  // kOffsets: every partition; kPositionToken: only token_partition is meaningful.
  std::vector<int64_t> next;
  int32_t token_partition = -1;
  absl::Time time;  // kTime
};

class Subscription final : public grpc::ServerWriteReactor<SubscribeResponse>,
                           public TailListener,
                           public std::enable_shared_from_this<Subscription> {
 public:
  enum class Mode { kWaiting, kCatchUp, kParked, kLive };

  Subscription(SubscriptionHub& hub, CompiledFilter filter, auth::Principal principal,
               absl::Duration heartbeat, int events_per_message)
      : hub_(hub),
        filter_(std::move(filter)),
        principal_(std::move(principal)),
        heartbeat_(heartbeat),
        events_per_message_(events_per_message),
        last_sent_(absl::Now()) {}

  const std::string& principal_id() const { return principal_.id; }

  // Starts delivery. Called once, right after the hub registered this.
  void Begin(StartSpec start, bool latest);

  void OnWriteDone(bool ok) override;
  void OnCancel() override { End(absl::CancelledError("the client cancelled")); }
  void OnDone() override { hub_.Forget(this); }
  void OnTailAdvanced() override {
    {
      absl::MutexLock lock(&mu_);
      listening_ = false;
    }
    Pump();
  }

  // Writes the next message if none is being written.
  void Pump();
  // Finishes the call with `status` (once; later calls do nothing). With `resume`, a ResumeInfo
  // carrying the cursor to resume from is added; it is decided under the same lock as the end, so
  // that no message is taken for writing in between (the client would receive it and then resume
  // before it: a duplicate).
  void End(absl::Status status, bool resume = false);
  // Ends with `status` plus a ResumeInfo carrying the current cursor.
  void EndWithResume(absl::Status status) { End(std::move(status), /*resume=*/true); }
  // Ticker: heartbeats, and the wait for a reader.
  void Tick(absl::Time now);

 private:
  friend class CatchUpPool;

  std::string CursorLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    cursor::Cursor cursor{.log = hub_.options().log};
    for (size_t p = 0; p < next_.size(); ++p) {
      cursor.next_offsets[static_cast<int32_t>(p)] = next_[p];
    }
    return cursor::EncodeCursor(cursor);
  }
  // Where a client that receives every message taken for writing so far resumes.
  std::string ResumeCursorLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    if (unresolved_.has_value() && unresolved_->kind == StartSpec::Kind::kPositionToken) {
      // Nothing read yet, and next_ holds no position: resume at the request's token.
      const int32_t p = unresolved_->token_partition;
      return cursor::EncodeCursor(
          {.log = hub_.options().log,
           .next_offsets = {{p, unresolved_->next[static_cast<size_t>(p)]}}});
    }
    // A start time not yet turned into offsets: no cursor can say it (but the log's start,
    // for LOG_EDGE_EARLIEST, is offset 0 everywhere); the client repeats its request.
    if (unresolved_.has_value() && unresolved_->time != absl::UnixEpoch()) return std::string();
    // Messages still queued were read but not sent: resume before them.
    return queue_.empty() || sent_cursor_.empty() ? CursorLocked() : sent_cursor_;
  }
  bool Wanted(const TailEntry& entry) const {
    return entry.decoded && filter_.Matches(entry.facts) && MaySee(principal_, entry.facts);
  }
  // Whether every partition has been read up to the end it had when the call started.
  bool CaughtUpLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    for (size_t p = 0; p < next_.size(); ++p) {
      if (next_[p] < end_at_start_[p]) return false;
    }
    return true;
  }
  void MakeCaughtUpLocked(SubscribeResponse& out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    caught_up_sent_ = true;
    coop::v1::CaughtUp* caught_up = out.mutable_caught_up();
    caught_up->set_cursor(CursorLocked());
    *caught_up->mutable_server_time() = ProtoTime(absl::Now());
  }
  // Picks the next message into out_. False when there is none now.
  bool NextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Asks for a catch-up reader.
  void NeedReaderLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool QueueFullLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return queue_.size() >= kMaxQueued || queued_bytes_ >= kMaxQueuedBytes;
  }
  void PushLocked(SubscribeResponse message) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    queued_bytes_ += message.ByteSizeLong();
    queue_.push_back(std::move(message));
  }

  SubscriptionHub& hub_;
  const CompiledFilter filter_;
  const auth::Principal principal_;
  const absl::Duration heartbeat_;
  // 1: each event is a message of its own (SubscribeResponse.event); more: up to this many
  // events at hand go out as one SubscribeResponse.events.
  const int events_per_message_;

  absl::Mutex mu_;
  Mode mode_ ABSL_GUARDED_BY(mu_) = Mode::kWaiting;
  // Per partition, the offset of the next record to read.
  std::vector<int64_t> next_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> end_at_start_ ABSL_GUARDED_BY(mu_);
  bool caught_up_sent_ ABSL_GUARDED_BY(mu_) = false;
  // Set until a reader has turned it into offsets.
  std::optional<StartSpec> unresolved_ ABSL_GUARDED_BY(mu_);
  uint64_t live_seq_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<SubscribeResponse> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time wait_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> finish_after_write_ ABSL_GUARDED_BY(mu_);
  absl::Time last_sent_ ABSL_GUARDED_BY(mu_);
  bool counted_live_ ABSL_GUARDED_BY(mu_) = false;
  // Ring entries from live_seq_ - (taken_.size() - taken_at_) on, taken and not all looked at.
  std::vector<std::shared_ptr<const TailEntry>> taken_ ABSL_GUARDED_BY(mu_);
  size_t taken_at_ ABSL_GUARDED_BY(mu_) = 0;
  // Registered with the tail for its next advance.
  bool listening_ ABSL_GUARDED_BY(mu_) = false;
  // The cursor of the last message taken for writing (or of the start): where a client that
  // got nothing queued after it resumes.
  std::string sent_cursor_ ABSL_GUARDED_BY(mu_);
  SubscribeResponse out_;  // The message being written; touched only while !writing_.
};

// The catch-up readers: `slots` threads, each with a Kafka consumer, serving one subscription
// at a time.
class CatchUpPool {
 public:
  CatchUpPool(SubscriptionHub& hub, int slots) : hub_(hub) {
    for (int i = 0; i < slots; ++i) threads_.emplace_back([this] { Work(); });
  }
  ~CatchUpPool() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    for (std::thread& thread : threads_) thread.join();
  }

  void Request(std::weak_ptr<Subscription> subscription) {
    absl::MutexLock lock(&mu_);
    waiting_.push_back(std::move(subscription));
  }

 private:
  void Work();
  // Reads for `s` until it goes live, parks, finishes or fails.
  void Serve(kafka::Consumer& consumer, Subscription& s);
  absl::Status Resolve(kafka::Consumer& consumer, const StartSpec& start,
                       std::vector<int64_t>& next);
  absl::StatusOr<std::unique_ptr<kafka::Consumer>> NewConsumer();

  SubscriptionHub& hub_;
  absl::Mutex mu_;
  std::deque<std::weak_ptr<Subscription>> waiting_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

// ---- Subscription -------------------------------------------------------------------------------

void Subscription::Begin(StartSpec start, bool latest) {
  {
    absl::MutexLock lock(&mu_);
    end_at_start_ = hub_.tail().Known();
    next_.assign(end_at_start_.size(), 0);
    if (latest) {
      next_ = end_at_start_;
      SubscribeResponse caught_up;
      MakeCaughtUpLocked(caught_up);
      PushLocked(std::move(caught_up));
    } else if (start.kind == StartSpec::Kind::kOffsets) {
      next_ = start.next;
      sent_cursor_ = CursorLocked();
    } else {
      unresolved_ = std::move(start);
    }
    std::optional<uint64_t> join;
    if (!unresolved_.has_value()) join = hub_.tail().JoinAt(next_);
    if (join.has_value()) {
      mode_ = Mode::kLive;
      live_seq_ = *join;
      counted_live_ = true;
      ++hub_.stats_.live;
    } else {
      NeedReaderLocked();
    }
  }
  Pump();
}

void Subscription::NeedReaderLocked() {
  mode_ = Mode::kWaiting;
  wait_deadline_ = absl::Now() + hub_.options().catchup_wait;
  hub_.pool_->Request(weak_from_this());
}

bool Subscription::NextLocked() {
  if (!queue_.empty()) {
    if (events_per_message_ > 1 && queue_.front().has_event()) {
      // The catch-up reader queues one event per message: consecutive ones go out together.
      auto* events = out_.mutable_events()->mutable_events();
      size_t bytes = 0;
      while (!queue_.empty() && queue_.front().has_event() &&
             events->size() < events_per_message_) {
        const size_t size = queue_.front().ByteSizeLong();
        if (!events->empty() && bytes + size > kMaxBatchBytes) break;
        bytes += size;
        queued_bytes_ -= std::min(queued_bytes_, size);
        events->Add(std::move(*queue_.front().mutable_event()));
        queue_.pop_front();
      }
    } else {
      out_ = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= std::min(queued_bytes_, out_.ByteSizeLong());
    }
    if (mode_ == Mode::kParked && queue_.empty()) NeedReaderLocked();
    return true;
  }
  if (mode_ != Mode::kLive) return false;
  // Events put into out_ so far (more than one only when batching), and their bytes.
  int added = 0;
  size_t bytes = 0;
  while (true) {
    // Entries taken from the ring earlier and not looked at yet come first: one delivery does
    // not re-read the ring (under the tail's lock).
    while (taken_at_ < taken_.size()) {
      const TailEntry& entry = *taken_[taken_at_];
      if (added > 0 &&
          (added >= events_per_message_ || bytes + entry.value.size() > kMaxBatchBytes)) {
        return true;  // The batch is full; this entry starts the next one.
      }
      ++taken_at_;
      ++live_seq_;
      int64_t& next = next_[static_cast<size_t>(entry.partition)];
      if (entry.offset < next) continue;  // Read already (in catch-up).
      next = entry.offset + 1;
      if (!Wanted(entry)) continue;
      coop::v1::StreamedEvent* streamed =
          events_per_message_ > 1 ? out_.mutable_events()->add_events() : out_.mutable_event();
      SetEventBytes(*streamed, entry.value);
      streamed->mutable_position()->set_partition(entry.partition);
      streamed->mutable_position()->set_offset(entry.offset);
      streamed->mutable_position()->set_token(
          cursor::EncodePosition(hub_.options().log, entry.partition, entry.offset));
      streamed->set_cursor(CursorLocked());
      ++hub_.stats_.delivered;
      if (events_per_message_ <= 1) return true;
      ++added;
      bytes += entry.value.size() + streamed->cursor().size() + streamed->position().token().size();
    }
    taken_.clear();
    taken_at_ = 0;
    LogTail::Slice slice = hub_.tail().Read(
        live_seq_, kSliceEntries,
        listening_ ? std::weak_ptr<TailListener>() : std::weak_ptr<TailListener>(weak_from_this()));
    if (slice.at_head) listening_ = true;
    if (slice.behind) {
      // Its next record has left the ring: read it from Kafka (after the batch in hand).
      ++hub_.stats_.fell_behind;
      if (counted_live_) --hub_.stats_.live;
      counted_live_ = false;
      NeedReaderLocked();
      return added > 0;
    }
    if (!slice.entries.empty()) {
      taken_ = std::move(slice.entries);
      continue;
    }
    // At the head: every record the tail has read is behind us, and so is the tail's position.
    for (size_t p = 0; p < next_.size() && p < slice.known.size(); ++p) {
      next_[p] = std::max(next_[p], slice.known[p]);
    }
    if (added > 0) return true;  // CaughtUp, if due, follows in the next message.
    if (!caught_up_sent_ && CaughtUpLocked()) {
      MakeCaughtUpLocked(out_);
      return true;
    }
    return false;
  }
}

void Subscription::Pump() {
  {
    absl::MutexLock lock(&mu_);
    if (writing_ || finished_) return;
    out_.Clear();
    if (!NextLocked()) {
      if (absl::Now() - last_sent_ < heartbeat_) return;
      coop::v1::Heartbeat* heartbeat = out_.mutable_heartbeat();
      heartbeat->set_cursor(CursorLocked());
      *heartbeat->mutable_server_time() = ProtoTime(absl::Now());
      ++hub_.stats_.heartbeats;
    }
    if (out_.has_event()) {
      sent_cursor_ = out_.event().cursor();
    } else if (out_.has_events()) {
      sent_cursor_ = out_.events().events().rbegin()->cursor();
    } else if (out_.has_caught_up()) {
      sent_cursor_ = out_.caught_up().cursor();
    } else if (out_.has_heartbeat()) {
      sent_cursor_ = out_.heartbeat().cursor();
    }
    writing_ = true;
    last_sent_ = absl::Now();
  }
  StartWrite(&out_);
}

void Subscription::OnWriteDone(bool ok) {
  std::optional<grpc::Status> finish;
  {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok && !finished_) {
      finished_ = true;
      finish = grpc::Status(grpc::StatusCode::CANCELLED, "the stream broke");
    } else if (finish_after_write_.has_value()) {
      finish = std::move(finish_after_write_);
      finish_after_write_.reset();
    }
  }
  if (finish.has_value()) {
    Finish(*finish);
    return;
  }
  Pump();
}

void Subscription::End(absl::Status status, bool resume) {
  grpc::Status grpc_status;
  {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    if (resume) {
      if (std::string cursor = ResumeCursorLocked(); !cursor.empty()) {
        status = rpc::WithResumeCursor(std::move(status), cursor);
      }
    }
    grpc_status = rpc::ToGrpcStatus(status);
    finished_ = true;
    if (counted_live_) --hub_.stats_.live;
    counted_live_ = false;
    if (writing_) {
      finish_after_write_ = grpc_status;
      return;
    }
  }
  Finish(grpc_status);
}

void Subscription::Tick(absl::Time now) {
  bool expired = false;
  {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    expired = mode_ == Mode::kWaiting && now > wait_deadline_;
  }
  if (expired) {
    ++hub_.stats_.exhausted;
    EndWithResume(rpc::WithRetryDelay(
        absl::ResourceExhaustedError(
            "every catch-up reader is busy and this subscription needs one (it starts in history "
            "or fell behind); resume from the cursor in ResumeInfo later"),
        absl::Seconds(1)));
    return;
  }
  Pump();
}

// ---- CatchUpPool --------------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<kafka::Consumer>> CatchUpPool::NewConsumer() {
  kafka::KafkaConfig kafka = hub_.options().kafka;
  // A smaller prefetch stalls the fetcher (see replay.cc); 8 MiB per reader.
  kafka.properties.try_emplace("queued.max.messages.kbytes", "8192");
  kafka.properties.try_emplace("fetch.wait.max.ms", "50");
  kafka::ConsumerOptions options;
  options.read_committed = true;
  options.report_end_of_partition = true;
  options.fail_on_missing_offset = true;
  return kafka::Consumer::Create(kafka, options);
}

void CatchUpPool::Work() {
  while (true) {
    std::shared_ptr<Subscription> subscription;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](CatchUpPool* pool)
               ABSL_NO_THREAD_SAFETY_ANALYSIS { return pool->stop_ || !pool->waiting_.empty(); },
          this));
      if (stop_) return;
      subscription = waiting_.front().lock();
      waiting_.pop_front();
    }
    if (subscription == nullptr) continue;
    // A consumer per turn, assigned once: librdkafka 2.0 can trip an internal assertion
    // (rd_kafka_assignment_partition_stopped) when one consumer's assignment is replaced in
    // quick succession, so assignments are never changed.
    absl::StatusOr<std::unique_ptr<kafka::Consumer>> consumer = NewConsumer();
    if (!consumer.ok()) {
      subscription->End(consumer.status());
      continue;
    }
    Serve(**consumer, *subscription);
    subscription->Pump();
  }
}

absl::Status CatchUpPool::Resolve(kafka::Consumer& consumer, const StartSpec& start,
                                  std::vector<int64_t>& next) {
  const auto partitions = static_cast<int32_t>(next.size());
  absl::Time time = start.time;
  if (start.kind == StartSpec::Kind::kPositionToken) {
    // The other partitions start at that event's recorded_time: read it for its timestamp.
    const int64_t after = start.next[static_cast<size_t>(start.token_partition)];
    time = absl::UnixEpoch();
    if (after > 0) {
      // A consumer of its own: the reading one is assigned once, later (see Work).
      COOP_ASSIGN_OR_RETURN(std::unique_ptr<kafka::Consumer> lookup, NewConsumer());
      COOP_RETURN_IF_ERROR(lookup->Assign(hub_.options().topic, start.token_partition, after - 1));
      const absl::Time deadline = absl::Now() + kKafkaTimeout;
      bool found = false;
      while (!found && absl::Now() < deadline) {
        absl::StatusOr<std::optional<kafka::ConsumedRecord>> polled =
            lookup->Poll(absl::Milliseconds(100));
        if (absl::IsDataLoss(polled.status())) {
          return absl::OutOfRangeError(absl::StrCat(
              "cursor: the event before offset ", after, " of partition ", start.token_partition,
              " is no longer in the log (deleted by retention)"));
        }
        if (!polled.ok() || !polled->has_value()) continue;
        if ((*polled)->end_of_partition) {
          return absl::InvalidArgumentError(
              absl::StrCat("cursor: partition ", start.token_partition, " has no record at offset ",
                           after - 1, " (a cursor of another log?)"));
        }
        time = (*polled)->position.timestamp;
        found = true;
      }
      if (!found) return absl::UnavailableError("cursor: the log did not answer in time");
    }
  }
  using Offsets = std::map<int32_t, int64_t>;
  COOP_ASSIGN_OR_RETURN(
      Offsets at, consumer.OffsetsForTime(hub_.options().topic, partitions, time, kKafkaTimeout));
  std::optional<Offsets> ends;
  for (int32_t p = 0; p < partitions; ++p) {
    if (start.kind == StartSpec::Kind::kPositionToken && p == start.token_partition) {
      next[static_cast<size_t>(p)] = start.next[static_cast<size_t>(p)];
      continue;
    }
    int64_t offset = at.count(p) ? at[p] : kafka::kOffsetEnd;
    if (offset < 0) {
      if (!ends.has_value()) {
        COOP_ASSIGN_OR_RETURN(ends,
                              consumer.EndOffsets(hub_.options().topic, partitions, kKafkaTimeout));
      }
      offset = ends->count(p) ? ends->at(p) : 0;
    }
    next[static_cast<size_t>(p)] = offset;
  }
  return absl::OkStatus();
}

void CatchUpPool::Serve(kafka::Consumer& consumer, Subscription& s) {
  std::optional<StartSpec> unresolved;
  std::vector<int64_t> next;
  {
    absl::MutexLock lock(&s.mu_);
    if (s.finished_) return;
    s.mode_ = Subscription::Mode::kCatchUp;
    s.wait_deadline_ = absl::InfiniteFuture();
    unresolved = s.unresolved_;
    next = s.next_;
  }
  ++hub_.stats_.catching_up;
  struct Uncount {
    SubscriptionHub& hub;
    ~Uncount() { --hub.stats_.catching_up; }
  } uncount{hub_};

  if (unresolved.has_value()) {
    if (absl::Status resolved = Resolve(consumer, *unresolved, next); !resolved.ok()) {
      s.End(resolved);
      return;
    }
    absl::MutexLock lock(&s.mu_);
    s.next_ = next;
    s.unresolved_.reset();
    s.sent_cursor_ = s.CursorLocked();
  }
  std::map<int32_t, int64_t> assignment;
  for (size_t p = 0; p < next.size(); ++p) assignment[static_cast<int32_t>(p)] = next[p];
  if (absl::Status assigned = consumer.AssignAll(hub_.options().topic, assignment);
      !assigned.ok()) {
    s.End(assigned);
    return;
  }
  const cursor::LogId& log = hub_.options().log;
  int64_t since_join_check = -1;  // Look at the ring first.
  while (true) {
    // Room in its queue? A client that does not take its messages gives the reader up.
    {
      absl::MutexLock lock(&s.mu_);
      if (s.finished_) return;
      auto room = [&s]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return s.finished_ || !s.QueueFullLocked();
      };
      if (!s.mu_.AwaitWithTimeout(absl::Condition(&room), hub_.options().catchup_hold)) {
        s.mode_ = Subscription::Mode::kParked;
        return;
      }
      if (s.finished_) return;
    }
    if (since_join_check >= 256 || since_join_check < 0) {
      since_join_check = 0;
      absl::MutexLock lock(&s.mu_);
      if (std::optional<uint64_t> join = hub_.tail().JoinAt(s.next_)) {
        s.mode_ = Subscription::Mode::kLive;
        s.live_seq_ = *join;
        s.counted_live_ = true;
        ++hub_.stats_.live;
        return;
      }
    }
    absl::StatusOr<std::optional<kafka::ConsumedRecord>> polled =
        consumer.Poll(absl::Milliseconds(100));
    if (!polled.ok()) {
      if (absl::IsDataLoss(polled.status())) {
        s.End(absl::OutOfRangeError(absl::StrCat(
            "records past the cursor are no longer in the log: ", polled.status().message())));
        return;
      }
      spdlog::warn("stream: catch-up read: {}", polled.status().ToString());
      absl::SleepFor(absl::Milliseconds(100));
      continue;
    }
    if (!polled->has_value()) {
      since_join_check = -1;  // Idle: look at the ring now.
      continue;
    }
    const kafka::ConsumedRecord& consumed = **polled;
    const int32_t partition = consumed.position.partition;
    const auto p = static_cast<size_t>(partition);
    if (p >= next.size()) continue;
    if (consumed.end_of_partition) {
      absl::MutexLock lock(&s.mu_);
      s.next_[p] = std::max(s.next_[p], consumed.position.offset);
      if (!s.caught_up_sent_ && s.CaughtUpLocked()) {
        SubscribeResponse caught_up;
        s.MakeCaughtUpLocked(caught_up);
        s.PushLocked(std::move(caught_up));
      }
      since_join_check = -1;
    } else {
      ++since_join_check;
      bool decoded = false;
      EventFacts facts;
      if (absl::StatusOr<coop::v1::Event> event = events::DecodeRecord(consumed.record);
          event.ok()) {
        facts = FactsOf(*event);
        decoded = true;
      }
      absl::MutexLock lock(&s.mu_);
      if (consumed.position.offset < s.next_[p]) continue;
      s.next_[p] = consumed.position.offset + 1;
      if (decoded && s.filter_.Matches(facts) && MaySee(s.principal_, facts)) {
        SubscribeResponse message;
        coop::v1::StreamedEvent* streamed = message.mutable_event();
        SetEventBytes(*streamed, consumed.record.value);
        streamed->mutable_position()->set_partition(partition);
        streamed->mutable_position()->set_offset(consumed.position.offset);
        streamed->mutable_position()->set_token(
            cursor::EncodePosition(log, partition, consumed.position.offset));
        streamed->set_cursor(s.CursorLocked());
        s.PushLocked(std::move(message));
        ++hub_.stats_.delivered;
      }
      if (!s.caught_up_sent_ && s.CaughtUpLocked()) {
        SubscribeResponse caught_up;
        s.MakeCaughtUpLocked(caught_up);
        s.PushLocked(std::move(caught_up));
      }
    }
    s.Pump();
  }
}

// ---- SubscriptionHub ----------------------------------------------------------------------------

SubscriptionHub::SubscriptionHub(SubscriptionOptions options, LogTail& tail)
    : options_(std::move(options)), tail_(tail) {
  pool_ = std::make_unique<CatchUpPool>(*this, std::max(1, options_.catchup_slots));
  ticker_ = std::thread([this] {
    while (!stop_ticker_.load()) {
      absl::SleepFor(kTick);
      Tick();
    }
  });
}

SubscriptionHub::~SubscriptionHub() {
  Shutdown();
  stop_ticker_ = true;
  ticker_.join();
  pool_.reset();
}

void SubscriptionHub::Tick() {
  std::vector<std::shared_ptr<Subscription>> subscriptions;
  {
    absl::MutexLock lock(&mu_);
    subscriptions.reserve(all_.size());
    for (const auto& [raw, subscription] : all_) subscriptions.push_back(subscription);
  }
  const absl::Time now = absl::Now();
  for (const std::shared_ptr<Subscription>& subscription : subscriptions) subscription->Tick(now);
}

namespace {

// A reactor that finishes at once with an error.
class FailedSubscribe final : public grpc::ServerWriteReactor<SubscribeResponse> {
 public:
  explicit FailedSubscribe(const absl::Status& status) { Finish(rpc::ToGrpcStatus(status)); }
  void OnDone() override { delete this; }
};

absl::Status BadRequest(absl::string_view field, absl::string_view description) {
  return rpc::InvalidArgumentWithViolations(absl::StrCat(field, ": ", description),
                                            {{std::string(field), std::string(description)}});
}

}  // namespace

absl::StatusOr<int> EventsPerMessage(int32_t requested) {
  if (requested < 0 || requested > kMaxEventsPerMessage) {
    return BadRequest(
        "max_events_per_message",
        absl::StrCat("must be between 0 and ", kMaxEventsPerMessage, "; got ", requested));
  }
  return std::max(1, requested);
}

grpc::ServerWriteReactor<SubscribeResponse>* SubscriptionHub::Subscribe(
    const SubscribeRequest& request, absl::StatusOr<auth::Principal> principal) {
  if (!principal.ok()) return new FailedSubscribe(principal.status());
  if (absl::Status allowed = auth::CheckSubscribe(*principal, request.filter()); !allowed.ok()) {
    return new FailedSubscribe(allowed);
  }
  absl::StatusOr<CompiledFilter> filter = CompiledFilter::Compile(request.filter(), "filter");
  if (!filter.ok()) return new FailedSubscribe(filter.status());

  absl::Duration heartbeat = options_.default_heartbeat;
  if (request.has_heartbeat_interval()) {
    heartbeat = absl::Milliseconds(TimeUtil::DurationToMilliseconds(request.heartbeat_interval()));
    if (heartbeat < absl::Seconds(1) || heartbeat > absl::Seconds(300)) {
      return new FailedSubscribe(BadRequest(
          "heartbeat_interval",
          absl::StrCat("must be between 1s and 300s; got ", absl::FormatDuration(heartbeat))));
    }
  }
  absl::StatusOr<int> events_per_message = EventsPerMessage(request.max_events_per_message());
  if (!events_per_message.ok()) return new FailedSubscribe(events_per_message.status());
  const auto partitions = static_cast<size_t>(tail_.partitions());
  StartSpec start;
  bool latest = false;
  switch (request.start_case()) {
    case SubscribeRequest::kEdge:
      if (request.edge() == coop::v1::LOG_EDGE_LATEST) {
        latest = true;
      } else if (request.edge() == coop::v1::LOG_EDGE_EARLIEST) {
        start.kind = StartSpec::Kind::kTime;
        start.time = absl::UnixEpoch();
      } else {
        return new FailedSubscribe(
            BadRequest("edge", "must be LOG_EDGE_EARLIEST or LOG_EDGE_LATEST"));
      }
      break;
    case SubscribeRequest::kStartTime: {
      const absl::Time time =
          absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(request.start_time()));
      if (time > absl::Now()) {
        return new FailedSubscribe(BadRequest(
            "start_time",
            absl::StrCat("must not be in the future; got ",
                         absl::FormatTime(absl::RFC3339_full, time, absl::UTCTimeZone()))));
      }
      start.kind = StartSpec::Kind::kTime;
      start.time = time;
      break;
    }
    case SubscribeRequest::kCursor: {
      absl::StatusOr<cursor::Cursor> decoded = cursor::DecodeCursor(request.cursor(), options_.log);
      if (!decoded.ok())
        return new FailedSubscribe(BadRequest("cursor", decoded.status().message()));
      start.next.assign(partitions, 0);
      for (const auto& [p, offset] : decoded->next_offsets) {
        if (p < 0 || static_cast<size_t>(p) >= partitions) {
          return new FailedSubscribe(BadRequest(
              "cursor", absl::StrCat("names partition ", p, "; the log has ", partitions)));
        }
        start.next[static_cast<size_t>(p)] = offset;
      }
      if (decoded->next_offsets.size() == 1 && partitions > 1) {
        start.kind = StartSpec::Kind::kPositionToken;
        start.token_partition = decoded->next_offsets.begin()->first;
      }
      break;
    }
    case SubscribeRequest::START_NOT_SET:
      return new FailedSubscribe(
          BadRequest("start", "required: one of edge, cursor or start_time"));
  }

  auto subscription = std::make_shared<Subscription>(*this, *std::move(filter), *principal,
                                                     heartbeat, *events_per_message);
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) {
      return new FailedSubscribe(absl::UnavailableError("the server is shutting down"));
    }
    int& streams = per_principal_[principal->id];
    if (streams >= options_.max_streams_per_principal) {
      return new FailedSubscribe(rpc::WithRetryDelay(
          absl::ResourceExhaustedError(absl::StrCat("principal '", principal->id, "' has ", streams,
                                                    " subscriptions open, the most "
                                                    "allowed")),
          absl::Seconds(5)));
    }
    ++streams;
    all_[subscription.get()] = subscription;
    ++stats_.active;
  }
  subscription->Begin(std::move(start), latest);
  return subscription.get();
}

void SubscriptionHub::Forget(Subscription* subscription) {
  std::shared_ptr<Subscription> last;  // Destroyed outside the lock.
  absl::MutexLock lock(&mu_);
  auto it = all_.find(subscription);
  if (it == all_.end()) return;
  last = std::move(it->second);
  all_.erase(it);
  --stats_.active;
  if (--per_principal_[last->principal_id()] <= 0) per_principal_.erase(last->principal_id());
}

void SubscriptionHub::Shutdown(absl::Time deadline) {
  std::vector<std::shared_ptr<Subscription>> subscriptions;
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
    for (const auto& [raw, subscription] : all_) subscriptions.push_back(subscription);
  }
  for (const std::shared_ptr<Subscription>& subscription : subscriptions) {
    subscription->EndWithResume(absl::UnavailableError(
        "the server is shutting down; resume from the cursor in ResumeInfo or the last one "
        "received"));
  }
  subscriptions.clear();
  absl::MutexLock lock(&mu_);
  auto all_done = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return all_.empty(); };
  mu_.AwaitWithDeadline(absl::Condition(&all_done), deadline);
}

}  // namespace coop::stream
