#include "consumers/views/view_consumer.h"

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/events/record_codec.h"
#include "common/kafka/consumer.h"
#include "common/kafka/producer.h"
#include "common/status_macros.h"
#include "consumers/views/schema.h"
#include "services/publisher/validation/event_validator.h"
#include "spdlog/spdlog.h"

namespace coop::views {
namespace {

constexpr absl::Duration kMetadataTimeout = absl::Seconds(30);
constexpr absl::Duration kMaxBackoff = absl::Seconds(5);

bool Retriable(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsAborted(status) ||
         absl::IsDeadlineExceeded(status) || absl::IsResourceExhausted(status);
}

// Why a record cannot be applied, or an empty string when it can; fills `event`.
std::string Examine(const kafka::KafkaRecord& record, coop::v1::Event& event) {
  absl::StatusOr<coop::v1::Event> decoded = events::DecodeRecord(record);
  if (!decoded.ok()) return absl::StrCat("undecodable: ", decoded.status().message());
  event = *std::move(decoded);
  if (events::PayloadTypeName(event).empty()) {
    return absl::StrCat("unknown payload type '", event.type(),
                        "' (no payload this build knows is set)");
  }
  if (!event.has_recorded_time() || !absl::StartsWith(event.source(), "publishers/")) {
    return "not stamped by a publisher: source must be publishers/{id} and recorded_time set";
  }
  publisher::ValidationLimits limits;
  limits.recorded_time = absl::FromUnixSeconds(event.recorded_time().seconds()) +
                         absl::Nanoseconds(event.recorded_time().nanos());
  limits.max_violations = 5;
  const std::vector<publisher::FieldViolation> violations =
      publisher::ValidateEvent(event, "event", limits);
  if (violations.empty()) return "";
  return absl::StrCat("invalid: ",
                      absl::StrJoin(violations, "; ", [](std::string* out, const auto& v) {
                        absl::StrAppend(out, v.field, ": ", v.description);
                      }));
}

}  // namespace

struct ViewConsumer::Impl : public kafka::RebalanceListener {
  ViewConsumerOptions options;
  std::unique_ptr<sql::Connection> db;
  std::unique_ptr<Projector> projector;
  std::unique_ptr<kafka::Consumer> consumer;
  std::unique_ptr<kafka::Producer> dead_letters;
  int32_t partitions = 0;
  // The partitions this consumer owns -> the next offset stored for each.
  std::map<int32_t, int64_t> next;
  // The batch in hand.
  std::vector<LogEvent> events;
  std::map<int32_t, PartitionAdvance> advance;
  absl::Time batch_started = absl::InfinitePast();
  ViewConsumerStats stats;
  CommitCallback on_commit;
  std::atomic<bool> write_dead_letters{true};
  // Per partition, the last end-of-partition seen since its last record.
  struct EndSeen {
    int64_t offset = 0;
    absl::Time at;
  };
  std::map<int32_t, EndSeen> end_seen;
  // Set when a batch came back ABORTED: positions must be reloaded.
  bool reload = false;

  std::map<int32_t, int64_t> OnAssigned(const std::vector<int32_t>& assigned) override {
    absl::StatusOr<std::map<int32_t, int64_t>> stored = projector->LoadPositions();
    std::map<int32_t, int64_t> offsets;
    for (int32_t p : assigned) {
      const int64_t offset = stored.ok() && stored->count(p) ? stored->at(p) : 0;
      next[p] = offset;
      offsets[p] = offset;
    }
    if (!stored.ok()) {
      // Start from 0: records already applied are skipped by the compare-and-set and the
      // (source, id) check, so this is safe, only slower.
      spdlog::warn("views: cannot load positions on assignment ({}); re-reading from 0",
                   stored.status().ToString());
    }
    spdlog::info("views: assigned partitions [{}]", absl::StrJoin(assigned, ","));
    return offsets;
  }

  void OnRevoked(const std::vector<int32_t>& revoked) override {
    // Finish the transaction in hand before the partitions go. If it cannot be committed now,
    // drop it: the positions did not move, so the next owner applies those records.
    absl::Status status = ApplyPending();
    if (!status.ok()) {
      spdlog::warn("views: batch dropped on revoke ({}); the next owner re-reads it",
                   status.ToString());
      DropPending();
    }
    for (int32_t p : revoked) next.erase(p);
    spdlog::info("views: revoked partitions [{}]", absl::StrJoin(revoked, ","));
  }

  void DropPending() {
    events.clear();
    advance.clear();
    batch_started = absl::InfinitePast();
  }

  absl::Status ApplyPending() {
    if (advance.empty()) return absl::OkStatus();
    absl::StatusOr<BatchResult> result = projector->ApplyBatch(events, advance);
    if (absl::IsAborted(result.status())) {
      ++stats.aborted_batches;
      spdlog::warn("views: {}", std::string(result.status().message()));
      DropPending();
      reload = true;
      return absl::OkStatus();
    }
    if (!result.ok()) return result.status();
    stats.applied += result->applied;
    stats.duplicates += result->duplicates;
    ++stats.batches;
    for (const auto& [p, move] : advance) next[p] = move.to;
    DropPending();
    if (on_commit) on_commit(next);
    return absl::OkStatus();
  }

  // Applies the batch in hand, retrying what can pass.
  absl::Status ApplyPendingWithRetry(const std::atomic<bool>& stop) {
    absl::Duration backoff = absl::Milliseconds(50);
    while (true) {
      absl::Status status = ApplyPending();
      if (status.ok() || !Retriable(status)) return status;
      if (stop.load()) return status;
      spdlog::warn("views: applying a batch failed ({}); retrying in {} ms", status.ToString(),
                   absl::ToInt64Milliseconds(backoff));
      absl::SleepFor(backoff);
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
  }

  absl::Status Reload() {
    reload = false;
    using Positions = std::map<int32_t, int64_t>;
    COOP_ASSIGN_OR_RETURN(Positions stored, projector->LoadPositions());
    for (auto& [p, offset] : next) {
      offset = stored.count(p) ? stored[p] : 0;
      COOP_RETURN_IF_ERROR(consumer->Seek(options.topic, p, offset));
    }
    return absl::OkStatus();
  }

  absl::Status DeadLetter(const kafka::ConsumedRecord& consumed, const std::string& reason,
                          const std::atomic<bool>& stop) {
    if (dead_letters == nullptr) {
      COOP_ASSIGN_OR_RETURN(dead_letters, kafka::Producer::Create(options.kafka));
    }
    kafka::KafkaRecord record = consumed.record;
    record.headers.push_back({kDeadLetterReasonHeader, reason});
    record.headers.push_back({kDeadLetterTopicHeader, options.topic});
    record.headers.push_back(
        {kDeadLetterPartitionHeader, absl::StrCat(consumed.position.partition)});
    record.headers.push_back({kDeadLetterOffsetHeader, absl::StrCat(consumed.position.offset)});
    absl::Duration backoff = absl::Milliseconds(100);
    while (true) {
      absl::StatusOr<kafka::RecordPosition> written =
          dead_letters->ProduceAndWait(options.dead_letter_topic, record, absl::Seconds(30));
      if (written.ok()) break;
      if (!Retriable(written.status()) || stop.load()) return written.status();
      spdlog::warn("views: dead-lettering failed ({}); retrying", written.status().ToString());
      absl::SleepFor(backoff);
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
    ++stats.dead_lettered;
    spdlog::warn("views: record {}[{}]@{} dead-lettered: {}", options.topic,
                 consumed.position.partition, consumed.position.offset, reason);
    return absl::OkStatus();
  }

  // Takes one polled record (or end-of-partition marker) into the batch.
  absl::Status Take(const kafka::ConsumedRecord& consumed, const std::atomic<bool>& stop) {
    const int32_t p = consumed.position.partition;
    const int64_t offset = consumed.position.offset;
    auto owned = next.find(p);
    if (owned == next.end()) return absl::OkStatus();  // Revoked meanwhile.
    if (consumed.end_of_partition) {
      // Only a hint that the log's end is near: librdkafka can report the end of a partition
      // ahead of records it has yet to deliver, so an end-of-partition never moves a position
      // (that would skip those records). Run(until) reads it, with a quiet period, to tell that
      // only transaction markers are left before `until`.
      end_seen[p] = EndSeen{.offset = offset, .at = absl::Now()};
      return absl::OkStatus();
    }
    end_seen.erase(p);
    auto [it, fresh] = advance.try_emplace(p, PartitionAdvance{owned->second, owned->second});
    PartitionAdvance& move = it->second;
    if (offset < move.to) {
      if (fresh) advance.erase(it);
      return absl::OkStatus();  // Already applied or already in the batch.
    }
    move.to = offset + 1;
    if (batch_started == absl::InfinitePast()) batch_started = absl::Now();
    if (options.recorded_until.has_value() &&
        consumed.position.timestamp > *options.recorded_until) {
      ++stats.skipped_after_as_of;
      return absl::OkStatus();
    }
    LogEvent log_event;
    log_event.partition = p;
    log_event.offset = offset;
    const std::string reason = Examine(consumed.record, log_event.event);
    if (!reason.empty()) {
      if (write_dead_letters.load()) return DeadLetter(consumed, reason, stop);
      ++stats.dead_lettered;
      return absl::OkStatus();
    }
    events.push_back(std::move(log_event));
    return absl::OkStatus();
  }
};

ViewConsumer::ViewConsumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ViewConsumer::~ViewConsumer() { Close(); }

void ViewConsumer::Close() {
  // Closing the consumer may call OnRevoked, which needs the rest of Impl.
  impl_->consumer.reset();
  impl_->dead_letters.reset();
}

absl::StatusOr<std::unique_ptr<ViewConsumer>> ViewConsumer::Create(
    ViewConsumerOptions options, std::unique_ptr<sql::Connection> connection,
    const std::string& cluster_id) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->db = std::move(connection);
  COOP_RETURN_IF_ERROR(MigrateGeneration(*impl->db));
  impl->projector = std::make_unique<Projector>(*impl->db);
  kafka::ConsumerOptions consumer_options;
  consumer_options.group_id = impl->options.group_id;
  consumer_options.read_committed = true;
  consumer_options.report_end_of_partition = true;
  // A view must never skip records unnoticed: a position that is not in the log stops the
  // consumer unless the operator has accepted the loss.
  consumer_options.fail_on_missing_offset = !impl->options.skip_missing_records;
  if (!impl->options.group_id.empty()) consumer_options.rebalance_listener = impl.get();
  COOP_ASSIGN_OR_RETURN(impl->consumer,
                        kafka::Consumer::Create(impl->options.kafka, consumer_options));
  COOP_ASSIGN_OR_RETURN(impl->partitions,
                        impl->consumer->PartitionCount(impl->options.topic, kMetadataTimeout));
  impl->write_dead_letters = impl->options.write_dead_letters;
  COOP_RETURN_IF_ERROR(
      impl->projector->Initialize(cluster_id, impl->options.topic, impl->partitions));
  return std::unique_ptr<ViewConsumer>(new ViewConsumer(std::move(impl)));
}

absl::Status ViewConsumer::Run(const std::atomic<bool>& stop,
                               const std::optional<std::map<int32_t, int64_t>>& until) {
  Impl& impl = *impl_;
  if (impl.options.group_id.empty()) {
    COOP_ASSIGN_OR_RETURN(impl.next, impl.projector->LoadPositions());
    COOP_RETURN_IF_ERROR(impl.consumer->AssignAll(impl.options.topic, impl.next));
  } else {
    COOP_RETURN_IF_ERROR(impl.consumer->Subscribe(impl.options.topic));
  }
  // A partition has reached `until` when its position has, or when only transaction markers
  // can be left before it: the end was reported at or past `until` and no record came for a
  // while after that.
  constexpr absl::Duration kQuietAfterEnd = absl::Seconds(1);
  auto reached = [&] {
    if (!until.has_value()) return false;
    const absl::Time now = absl::Now();
    for (const auto& [p, end] : *until) {
      auto it = impl.next.find(p);
      if (it == impl.next.end()) return false;
      if (it->second >= end) continue;
      auto seen = impl.end_seen.find(p);
      if (seen == impl.end_seen.end() || seen->second.offset < end ||
          now - seen->second.at < kQuietAfterEnd || impl.advance.count(p) > 0) {
        return false;
      }
    }
    return true;
  };
  while (!stop.load() && !reached()) {
    if (impl.reload) COOP_RETURN_IF_ERROR(impl.Reload());
    const absl::Duration wait =
        impl.advance.empty() ? absl::Milliseconds(100) : impl.options.batch_linger;
    absl::StatusOr<std::optional<kafka::ConsumedRecord>> polled = impl.consumer->Poll(wait);
    bool close = false;
    if (absl::IsDataLoss(polled.status())) {
      // Applying on would leave the views without those records for good. The batch in hand
      // is still sound (its records precede the gap); the operator decides what comes next.
      COOP_RETURN_IF_ERROR(impl.ApplyPendingWithRetry(stop));
      return polled.status();
    }
    if (!polled.ok()) {
      spdlog::warn("views: consume: {}", polled.status().ToString());
      close = !impl.advance.empty();
    } else if (!polled->has_value()) {
      close = !impl.advance.empty();
    } else {
      COOP_RETURN_IF_ERROR(impl.Take(**polled, stop));
      close = static_cast<int>(impl.events.size()) >= impl.options.max_batch_records ||
              (!impl.advance.empty() &&
               absl::Now() - impl.batch_started >= impl.options.max_batch_wait);
    }
    if (close) COOP_RETURN_IF_ERROR(impl.ApplyPendingWithRetry(stop));
  }
  return impl.ApplyPendingWithRetry(stop);
}

absl::StatusOr<std::map<int32_t, int64_t>> ViewConsumer::EndOffsets() {
  return impl_->consumer->EndOffsets(impl_->options.topic, impl_->partitions, kMetadataTimeout);
}

int32_t ViewConsumer::partition_count() const { return impl_->partitions; }

void ViewConsumer::set_write_dead_letters(bool write) { impl_->write_dead_letters = write; }

void ViewConsumer::set_commit_callback(CommitCallback callback) {
  impl_->on_commit = std::move(callback);
}

const ViewConsumerStats& ViewConsumer::stats() const { return impl_->stats; }

}  // namespace coop::views
