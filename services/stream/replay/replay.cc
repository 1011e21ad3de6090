#include "services/stream/replay/replay.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/events/record_codec.h"
#include "common/kafka/consumer.h"
#include "common/kafka/kafka_status.h"
#include "common/rpc/status_conversion.h"
#include "common/status_macros.h"
#include "google/protobuf/util/time_util.h"

namespace coop::stream {
namespace {

using ::coop::v1::ReplayResponse;

constexpr int64_t kNothingRead = std::numeric_limits<int64_t>::min();
// How long one poll may block: bounds the reaction to `cancel`.
constexpr absl::Duration kMaxPollWait = absl::Milliseconds(100);
// librdkafka's prefetch of one replay, shared by the partitions it reads: each has a queue of its
// own (Consumer::SplitPartitions), and queued.max.messages.kbytes then applies to each. A
// partition whose queue reaches that limit is not fetched again for 1 s (librdkafka 2.0 has
// that backoff built in; fetch.queue.backoff.ms came in 2.2), so its queue must hold what the
// replay takes from it in a second: with 4 MiB per partition a 1,000,000-event replay of 6
// partitions ran at 111,000 events/s, polls waiting 4 s in all; with 16 MiB at 208,000, polls
// never waiting (tools/bench/run-stream-bench --phases=replay --rounds=1). A replay takes
// about as much from all its partitions together as from one alone, hence a budget shared.
constexpr int64_t kPrefetchBudgetKbytes = 96 * 1024;
constexpr int64_t kMinPartitionPrefetchKbytes = 1024;
// How long the broker may hold a fetch that finds no new records (librdkafka's default is 500 ms).
// A replay never waits for new records: a partition whose queue has run dry should be fetched
// again at once, not after the fetch in flight for the others returns.
constexpr char kFetchWaitMs[] = "10";
// Backoff after a fetch error (librdkafka's default is 500 ms).
constexpr char kFetchBackoffMs[] = "10";

[[noreturn]] void DieOnOpenSsl(const char* what) {
  // EVP fails only when OpenSSL cannot allocate or its default provider is missing: nothing a
  // replay can recover from.
  std::fprintf(stderr, "coop::stream::Replay: OpenSSL %s failed\n", what);
  std::abort();
}

// The record digest of audit.proto (ComputeDigestResponse.sha256), fed one record at a time.
class RecordDigest {
 public:
  RecordDigest() : context_(EVP_MD_CTX_new()) {
    if (context_ == nullptr || EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr) != 1) {
      DieOnOpenSsl("EVP_DigestInit_ex(SHA-256)");
    }
  }

  // Partition as 4 bytes big-endian, offset and value length as 8 bytes big-endian, the value.
  void Add(int32_t partition, int64_t offset, absl::string_view value) {
    unsigned char prefix[20];
    const auto put = [&prefix](int at, uint64_t number, int bytes) {
      for (int i = bytes - 1; i >= 0; --i, number >>= 8) {
        prefix[at + i] = static_cast<unsigned char>(number & 0xff);
      }
    };
    put(0, static_cast<uint32_t>(partition), 4);
    put(4, static_cast<uint64_t>(offset), 8);
    put(12, static_cast<uint64_t>(value.size()), 8);
    if (EVP_DigestUpdate(context_.get(), prefix, sizeof(prefix)) != 1 ||
        EVP_DigestUpdate(context_.get(), value.data(), value.size()) != 1) {
      DieOnOpenSsl("EVP_DigestUpdate");
    }
  }

  std::string Finish() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_DigestFinal_ex(context_.get(), digest, &size) != 1) {
      DieOnOpenSsl("EVP_DigestFinal_ex");
    }
    return std::string(reinterpret_cast<const char*>(digest), size);
  }

 private:
  struct ContextDeleter {
    void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
  };
  std::unique_ptr<EVP_MD_CTX, ContextDeleter> context_;
};

std::string FormatMillis(int64_t ms) {
  return absl::FormatTime(absl::RFC3339_full, absl::FromUnixMillis(ms), absl::UTCTimeZone());
}

// The first whole millisecond at or after `time`: record timestamps are whole milliseconds, so
// ts >= time exactly when ts >= CeilMillis(time), and ts < time exactly when ts < CeilMillis(time).
int64_t CeilMillis(absl::Time time) {
  const int64_t floor = absl::ToUnixMillis(time);
  return absl::FromUnixMillis(floor) < time ? floor + 1 : floor;
}

// The sort key of the replay: (recorded_time, partition, offset).
struct RecordKey {
  int64_t timestamp_ms;
  int32_t partition;
  int64_t offset;

  friend bool operator<(const RecordKey& a, const RecordKey& b) {
    return std::tie(a.timestamp_ms, a.partition, a.offset) <
           std::tie(b.timestamp_ms, b.partition, b.offset);
  }
};

// A matching record waiting for its turn; its value lies in slots_[slot].
struct Pending {
  RecordKey key;
  uint32_t slot;
};

// Orders std::*_heap as a min-heap.
bool Later(const Pending& a, const Pending& b) { return b.key < a.key; }

// The record value: decoded once to check it and match the filter, then sent as stored (the
// event and record_value fields both carry these bytes; no parsed copy is kept or serialized).
struct Slot {
  std::string value;
};

struct PartitionState {
  // End offset when the replay started: nothing at or past it is read.
  int64_t end_offset = 0;
  // The latest recorded time read from the partition so far.
  int64_t max_seen_ms = kNothingRead;
  bool finished = false;
};

// One replay; lives on the stack of Replay(), used by its thread only.
class ReplayRun {
 public:
  ReplayRun(const ReplayOptions& options, const ReplayRange& range, const CompiledFilter& filter,
            const std::function<bool(const EventFacts&)>& may_see,
            const std::function<bool(ReplayResponse&&)>& sink, const std::atomic<bool>& cancel)
      : options_(options),
        range_(range),
        filter_(filter),
        may_see_(may_see),
        sink_(sink),
        cancel_(cancel),
        // Kafka timestamps are >= 0; an empty range stays empty.
        start_ms_(std::max<int64_t>(0, CeilMillis(range.start))),
        end_ms_(std::max(start_ms_, CeilMillis(range.end))),
        window_ms_(absl::ToInt64Milliseconds(options.order_window)),
        need_facts_(may_see != nullptr || !filter.matches_everything()) {}

  absl::Status Run() {
    COOP_RETURN_IF_ERROR(CheckRange());
    COOP_RETURN_IF_ERROR(Open());
    next_progress_ = absl::Now() + options_.progress_interval;
    const absl::Duration poll_wait =
        std::max(absl::Milliseconds(1), std::min(kMaxPollWait, options_.progress_interval));
    while (unfinished_ > 0) {
      if (cancel_.load(std::memory_order_relaxed)) return Cancelled();
      absl::StatusOr<bool> polled = PollNext(poll_wait);
      if (!polled.ok()) {
        // A broker briefly away: librdkafka reconnects by itself.
        if (kafka::IsRetriable(polled.status())) continue;
        return polled.status();
      }
      if (*polled) COOP_RETURN_IF_ERROR(OnRecord());
      COOP_RETURN_IF_ERROR(MaybeSendProgress());
    }
    // Every partition is finished: whatever is buffered is ready.
    COOP_RETURN_IF_ERROR(DeliverReady());
    return SendSummary();
  }

 private:
  // Reads the next record of the laggard: the partition not finished that has read the least
  // far in time, which the oldest buffered record waits for. The others are not read meanwhile;
  // librdkafka stops fetching a partition whose queue holds its prefetch limit. So no partition
  // runs ahead of the others by more than its prefetch, and the buffer holds about one order
  // window of records. Anything librdkafka still routes to the consumer's own queue is read too.
  absl::StatusOr<bool> PollNext(absl::Duration wait) {
    COOP_ASSIGN_OR_RETURN(bool got,
                          consumer_->PollPartitionInto(laggard_, absl::ZeroDuration(), scratch_));
    if (got) return true;
    COOP_ASSIGN_OR_RETURN(got, consumer_->PollInto(absl::ZeroDuration(), scratch_));
    if (got) return true;
    return consumer_->PollPartitionInto(laggard_, wait, scratch_);
  }

  absl::Status CheckRange() {
    if (range_.end <= range_.start) {
      return rpc::InvalidArgumentWithViolations("end_time must be after start_time",
                                                {{"end_time", "must be after start_time"}});
    }
    if (const absl::Time latest = absl::Now() - options_.settle_delay; range_.end > latest) {
      return absl::OutOfRangeError(absl::StrCat(
          "end_time ", absl::FormatTime(absl::RFC3339_full, range_.end, absl::UTCTimeZone()),
          " is less than the settle delay (", absl::FormatDuration(options_.settle_delay),
          ") in the past, so records of the range may still arrive; replay it from ",
          absl::FormatTime(absl::RFC3339_full, range_.end + options_.settle_delay,
                           absl::UTCTimeZone())));
    }
    return absl::OkStatus();
  }

  // Connects, checks retention, and assigns every partition that may hold records of the range
  // at its first record recorded at or after the start.
  // A consumer with a prefetch of `partition_kbytes` per partition read.
  absl::StatusOr<std::unique_ptr<kafka::Consumer>> NewConsumer(int64_t partition_kbytes) const {
    kafka::KafkaConfig config = options_.kafka;
    config.properties.try_emplace("queued.max.messages.kbytes", absl::StrCat(partition_kbytes));
    config.properties.try_emplace("fetch.wait.max.ms", kFetchWaitMs);
    config.properties.try_emplace("fetch.error.backoff.ms", kFetchBackoffMs);
    return kafka::Consumer::Create(config, kafka::ConsumerOptions{
                                               .read_committed = true,
                                               .report_end_of_partition = true,
                                               .fail_on_missing_offset = true,
                                           });
  }

  absl::Status Open() {
    // Metadata and offsets first; the reader's prefetch depends on how many partitions it reads.
    COOP_ASSIGN_OR_RETURN(consumer_, NewConsumer(kMinPartitionPrefetchKbytes));
    const std::string& topic = options_.topic;
    const absl::Duration timeout = options_.kafka_timeout;
    COOP_ASSIGN_OR_RETURN(const int32_t partitions, consumer_->PartitionCount(topic, timeout));
    COOP_ASSIGN_OR_RETURN(const auto log_starts,
                          consumer_->StartOffsets(topic, partitions, timeout));
    COOP_ASSIGN_OR_RETURN(
        const auto firsts,
        consumer_->OffsetsForTime(topic, partitions, absl::FromUnixMillis(start_ms_), timeout));
    COOP_ASSIGN_OR_RETURN(const auto ends, consumer_->EndOffsets(topic, partitions, timeout));

    partitions_.resize(partitions);
    std::map<int32_t, int64_t> assignment;
    for (int32_t p = 0; p < partitions; ++p) {
      const int64_t log_start = log_starts.at(p);
      const int64_t first = firsts.at(p);  // kOffsetEnd: no record recorded at or after start.
      const int64_t end = ends.at(p);
      if (log_start > 0) {
        // Records before log_start were deleted. They may have been of the range unless a record
        // left in the partition was recorded before the start (first is then past it).
        const bool none_left = log_start >= end;
        if (none_left || (first != kafka::kOffsetEnd && first <= log_start)) {
          return absl::FailedPreconditionError(absl::StrCat(
              "records of the range may have been deleted: partition ", p, " of ", topic,
              " starts at offset ", log_start, " (the records before it were deleted) and ",
              none_left ? "holds no record now"
                        : absl::StrCat("its oldest record left was not recorded before ",
                                       FormatMillis(start_ms_))));
        }
      }
      partitions_[p].end_offset = end;
      if (first == kafka::kOffsetEnd || first >= end) {
        partitions_[p].finished = true;
      } else {
        assignment[p] = first;
        ++unfinished_;
      }
    }
    if (!assignment.empty()) {
      const int64_t partition_kbytes =
          std::max(kMinPartitionPrefetchKbytes,
                   kPrefetchBudgetKbytes / static_cast<int64_t>(assignment.size()));
      consumer_.reset();
      COOP_ASSIGN_OR_RETURN(consumer_, NewConsumer(partition_kbytes));
      COOP_RETURN_IF_ERROR(consumer_->AssignAll(topic, assignment));
      std::vector<int32_t> assigned;
      for (const auto& [p, offset] : assignment) assigned.push_back(p);
      COOP_RETURN_IF_ERROR(consumer_->SplitPartitions(topic, assigned));
    }
    RecomputeMinSeen();
    return absl::OkStatus();
  }

  absl::Status OnRecord() {
    const int32_t p = scratch_.position.partition;
    if (p < 0 || static_cast<size_t>(p) >= partitions_.size()) return absl::OkStatus();
    PartitionState& partition = partitions_[p];
    // Records a finished partition had fetched before its pause took effect.
    if (partition.finished) return absl::OkStatus();
    const int64_t offset = scratch_.position.offset;
    if (scratch_.end_of_partition) {
      // With read_committed the last offsets may be transaction markers that are never
      // returned: the end marker says they have been passed.
      if (offset >= partition.end_offset) return Finish(p);
      return absl::OkStatus();
    }
    if (offset >= partition.end_offset) return Finish(p);

    const int64_t ts = scratch_.record.timestamp.has_value()
                           ? absl::ToUnixMillis(*scratch_.record.timestamp)
                           : kNothingRead;
    if (ts != kNothingRead && ts >= end_ms_ + window_ms_) return Finish(p);
    if (ts > partition.max_seen_ms) {
      const bool was_laggard = partition.max_seen_ms == min_seen_ms_;
      partition.max_seen_ms = ts;
      if (was_laggard) RecomputeMinSeen();
    }
    if (ts >= start_ms_ && ts < end_ms_) COOP_RETURN_IF_ERROR(TakeRecord(p, offset, ts));
    if (offset + 1 >= partition.end_offset) return Finish(p);
    return DeliverReady();
  }

  // A record of the range: decoded, matched, and buffered when it is to be delivered.
  absl::Status TakeRecord(int32_t p, int64_t offset, int64_t ts) {
    ++scanned_;
    absl::StatusOr<coop::v1::Event> event = events::DecodeRecord(scratch_.record);
    if (!event.ok()) {
      return absl::DataLossError(
          absl::StrCat("the record at partition ", p, " offset ", offset, " of ", options_.topic,
                       " (recorded at ", FormatMillis(ts),
                       ") is not an event as coopstream writes them: ", event.status().message()));
    }
    if (need_facts_) {
      const EventFacts facts = FactsOf(*event);
      if (!filter_.Matches(facts)) return absl::OkStatus();
      if (may_see_ != nullptr && !may_see_(facts)) return absl::OkStatus();
    }
    const RecordKey key{.timestamp_ms = ts, .partition = p, .offset = offset};
    if (delivered_ > 0 && key < last_delivered_) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the record at partition ", p, " offset ", offset, " (recorded at ", FormatMillis(ts),
          ") sorts before the record at partition ", last_delivered_.partition, " offset ",
          last_delivered_.offset, " (recorded at ", FormatMillis(last_delivered_.timestamp_ms),
          "), which was already delivered: recorded times in partition ", p,
          " are out of order by more than the order window of ",
          absl::FormatDuration(options_.order_window)));
    }
    uint32_t slot;
    if (free_slots_.empty()) {
      slot = static_cast<uint32_t>(slots_.size());
      slots_.emplace_back();
    } else {
      slot = free_slots_.back();
      free_slots_.pop_back();
    }
    slots_[slot].value = std::move(scratch_.record.value);
    heap_.push_back(Pending{.key = key, .slot = slot});
    std::push_heap(heap_.begin(), heap_.end(), Later);
    return absl::OkStatus();
  }

  absl::Status Finish(int32_t p) {
    PartitionState& partition = partitions_[p];
    partition.finished = true;
    --unfinished_;
    // Stop fetching what lies past the range (a live log grows at its end).
    COOP_RETURN_IF_ERROR(consumer_->Pause(options_.topic, p));
    if (partition.max_seen_ms == min_seen_ms_ || p == laggard_) RecomputeMinSeen();
    return DeliverReady();
  }

  // Also picks the laggard (the first partition not finished with the least max_seen_ms).
  void RecomputeMinSeen() {
    int64_t min_seen = std::numeric_limits<int64_t>::max();
    for (size_t p = 0; p < partitions_.size(); ++p) {
      const PartitionState& partition = partitions_[p];
      if (!partition.finished && partition.max_seen_ms < min_seen) {
        min_seen = partition.max_seen_ms;
        laggard_ = static_cast<int32_t>(p);
      }
    }
    min_seen_ms_ = min_seen;
  }

  // Records recorded before this are all read (when disorder stays within the window): every
  // partition not finished has read a record recorded a window later.
  int64_t SafeLimit() const {
    if (unfinished_ == 0) return std::numeric_limits<int64_t>::max();
    if (min_seen_ms_ == kNothingRead) return kNothingRead;
    return min_seen_ms_ - window_ms_;
  }

  absl::Status DeliverReady() {
    const int64_t limit = SafeLimit();
    while (!heap_.empty() && heap_.front().key.timestamp_ms < limit) {
      std::pop_heap(heap_.begin(), heap_.end(), Later);
      const Pending next = heap_.back();
      heap_.pop_back();
      COOP_RETURN_IF_ERROR(Deliver(next));
    }
    return absl::OkStatus();
  }

  absl::Status Deliver(const Pending& pending) {
    if (cancel_.load(std::memory_order_relaxed)) return Cancelled();
    Slot& slot = slots_[pending.slot];
    const RecordKey& key = pending.key;
    ReplayResponse response;
    coop::v1::ReplayedEvent* out = response.mutable_event();
    events::SetEventField(*out, coop::v1::ReplayedEvent::kEventFieldNumber, slot.value);
    FillPosition(key, *out->mutable_position());
    digest_.Add(key.partition, key.offset, slot.value);
    out->set_record_value(std::move(slot.value));
    slot.value.clear();
    free_slots_.push_back(pending.slot);
    if (delivered_ == 0) first_delivered_ = key;
    last_delivered_ = key;
    ++delivered_;
    if (!sink_(std::move(response))) return ClientGone();
    return MaybeSendProgress();
  }

  void FillPosition(const RecordKey& key, coop::v1::Position& position) const {
    position.set_partition(key.partition);
    position.set_offset(key.offset);
    position.set_token(cursor::EncodePosition(options_.log, key.partition, key.offset));
  }

  absl::Status MaybeSendProgress() {
    const absl::Time now = absl::Now();
    if (now < next_progress_) return absl::OkStatus();
    next_progress_ = now + options_.progress_interval;
    int64_t reached = SafeLimit();
    if (!heap_.empty()) reached = std::min(reached, heap_.front().key.timestamp_ms);
    reached = std::clamp(reached, start_ms_, end_ms_);
    ReplayResponse response;
    coop::v1::ReplayProgress* progress = response.mutable_progress();
    *progress->mutable_reached_time() =
        google::protobuf::util::TimeUtil::MillisecondsToTimestamp(reached);
    progress->set_scanned_count(scanned_);
    progress->set_delivered_count(delivered_);
    if (!sink_(std::move(response))) return ClientGone();
    return absl::OkStatus();
  }

  absl::Status SendSummary() {
    ReplayResponse response;
    coop::v1::ReplaySummary* summary = response.mutable_summary();
    summary->set_count(delivered_);
    if (delivered_ > 0) {
      FillPosition(first_delivered_, *summary->mutable_first_position());
      FillPosition(last_delivered_, *summary->mutable_last_position());
    }
    summary->set_sha256(digest_.Finish());
    if (!sink_(std::move(response))) return ClientGone();
    return absl::OkStatus();
  }

  absl::Status Cancelled() const {
    return absl::CancelledError(absl::StrCat("replay cancelled after ", delivered_, " events"));
  }
  absl::Status ClientGone() const {
    return absl::CancelledError(
        absl::StrCat("the client went away after ", delivered_, " events of the replay"));
  }

  const ReplayOptions& options_;
  const ReplayRange range_;
  const CompiledFilter& filter_;
  const std::function<bool(const EventFacts&)>& may_see_;
  const std::function<bool(ReplayResponse&&)>& sink_;
  const std::atomic<bool>& cancel_;
  // The range in whole milliseconds, [start_ms_, end_ms_).
  const int64_t start_ms_;
  const int64_t end_ms_;
  const int64_t window_ms_;
  const bool need_facts_;

  std::unique_ptr<kafka::Consumer> consumer_;
  // Reused by every poll, so that reading a record allocates only its value.
  kafka::ConsumedRecord scratch_;
  std::vector<PartitionState> partitions_;
  int32_t unfinished_ = 0;
  // The least max_seen_ms of the partitions not finished (kNothingRead before each has read).
  int64_t min_seen_ms_ = kNothingRead;
  // The partition read next (RecomputeMinSeen).
  int32_t laggard_ = 0;

  // Matching records waiting for their turn: a min-heap by key over slots_, whose entries are
  // reused through free_slots_.
  std::vector<Pending> heap_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;

  int64_t scanned_ = 0;
  int64_t delivered_ = 0;
  RecordKey first_delivered_{};
  RecordKey last_delivered_{};
  RecordDigest digest_;
  absl::Time next_progress_;
};

}  // namespace

absl::Status Replay(const ReplayOptions& options, const ReplayRange& range,
                    const CompiledFilter& filter,
                    const std::function<bool(const EventFacts&)>& may_see,
                    const std::function<bool(coop::v1::ReplayResponse&&)>& sink,
                    const std::atomic<bool>& cancel) {
  ReplayRun run(options, range, filter, may_see, sink, cancel);
  return run.Run();
}

}  // namespace coop::stream
