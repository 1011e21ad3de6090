#include "services/stream/log_tail.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/events/record_codec.h"
#include "common/kafka/kafka_status.h"
#include "common/status_macros.h"
#include "spdlog/spdlog.h"

namespace coop::stream {

namespace {

constexpr absl::Duration kMetadataTimeout = absl::Seconds(30);
// Records gathered before they are published to the ring (and the listeners woken) at once.
constexpr size_t kMaxBatch = 512;

size_t EntryBytes(const TailEntry& entry) {
  size_t bytes = sizeof(TailEntry) + entry.facts.subject.size() + entry.facts.type.size();
  for (const std::string& code : entry.facts.region_codes)
    bytes += sizeof(std::string) + code.size();
  for (const std::string& id : entry.facts.party_ids) bytes += sizeof(std::string) + id.size();
  bytes += entry.value.capacity();
  return bytes;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LogTail>> LogTail::Start(const LogTailOptions& options) {
  kafka::KafkaConfig kafka = options.kafka;
  // librdkafka's prefetch queue is memory outside the ring: keep it small.
  kafka.properties.try_emplace("queued.max.messages.kbytes", "8192");
  kafka::ConsumerOptions consumer_options;
  consumer_options.read_committed = true;
  consumer_options.report_end_of_partition = true;
  consumer_options.fail_on_missing_offset = true;
  COOP_ASSIGN_OR_RETURN(std::unique_ptr<kafka::Consumer> consumer,
                        kafka::Consumer::Create(kafka, consumer_options));
  COOP_ASSIGN_OR_RETURN(const int32_t partitions,
                        consumer->PartitionCount(options.topic, kMetadataTimeout));
  // A topic created a moment ago may have no partition leaders yet: ask again for a while.
  absl::StatusOr<std::map<int32_t, int64_t>> ends;
  const absl::Time give_up = absl::Now() + kMetadataTimeout;
  while (true) {
    ends = consumer->EndOffsets(options.topic, partitions, kMetadataTimeout);
    if (ends.ok() || !kafka::IsRetriable(ends.status()) || absl::Now() > give_up) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  if (!ends.ok()) return ends.status();
  std::vector<int64_t> start(static_cast<size_t>(partitions), 0);
  for (const auto& [p, end] : *ends) start[static_cast<size_t>(p)] = end;
  COOP_RETURN_IF_ERROR(consumer->AssignAll(options.topic, *ends));
  auto tail = std::unique_ptr<LogTail>(
      new LogTail(options, std::move(consumer), partitions, std::move(start)));
  tail->thread_ = std::thread([t = tail.get()] { t->Run(); });
  return tail;
}

LogTail::LogTail(const LogTailOptions& options, std::unique_ptr<kafka::Consumer> consumer,
                 int32_t partitions, std::vector<int64_t> start)
    : options_(options),
      consumer_(std::move(consumer)),
      partitions_(partitions),
      base_(start),
      known_(std::move(start)) {}

LogTail::~LogTail() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void LogTail::Run() {
  std::vector<std::shared_ptr<const TailEntry>> batch;
  std::vector<std::pair<int32_t, int64_t>> ends;
  absl::Duration backoff = absl::Milliseconds(100);
  while (!stop_.load()) {
    absl::StatusOr<std::optional<kafka::ConsumedRecord>> polled = consumer_->Poll(
        batch.empty() && ends.empty() ? absl::Milliseconds(100) : absl::ZeroDuration());
    if (!polled.ok()) {
      if (absl::IsDataLoss(polled.status())) {
        // The tail reads at the end, so only a recreated topic gets here.
        spdlog::error("stream: the log tail stopped: {}", polled.status().ToString());
        absl::MutexLock lock(&mu_);
        health_ = polled.status();
        break;
      }
      spdlog::warn("stream: tail: {}", polled.status().ToString());
      absl::SleepFor(backoff);
      backoff = std::min(backoff * 2, absl::Seconds(5));
      continue;
    }
    backoff = absl::Milliseconds(100);
    if (polled->has_value()) {
      kafka::ConsumedRecord& consumed = **polled;
      if (consumed.end_of_partition) {
        ends.emplace_back(consumed.position.partition, consumed.position.offset);
      } else {
        auto entry = std::make_shared<TailEntry>();
        entry->partition = consumed.position.partition;
        entry->offset = consumed.position.offset;
        entry->timestamp = consumed.position.timestamp;
        absl::StatusOr<coop::v1::Event> event = events::DecodeRecord(consumed.record);
        if (event.ok()) {
          entry->facts = FactsOf(*event);
          entry->decoded = true;
          entry->value = std::move(consumed.record.value);
        } else {
          ++stats_.undecodable;
          spdlog::warn("stream: record {}[{}]@{} passed over: {}", options_.topic, entry->partition,
                       entry->offset, std::string(event.status().message()));
        }
        entry->bytes = EntryBytes(*entry);
        ++stats_.records;
        batch.push_back(std::move(entry));
      }
      if (batch.size() < kMaxBatch) continue;
    }
    if (!batch.empty() || !ends.empty()) {
      Publish(std::move(batch), ends);
      batch.clear();
      ends.clear();
    }
  }
  // Wake everyone one last time so that nobody waits on a stopped tail.
  Publish({}, {});
}

void LogTail::Publish(std::vector<std::shared_ptr<const TailEntry>> batch,
                      const std::vector<std::pair<int32_t, int64_t>>& ends) {
  std::vector<std::weak_ptr<TailListener>> listeners;
  {
    absl::MutexLock lock(&mu_);
    for (std::shared_ptr<const TailEntry>& entry : batch) {
      const auto p = static_cast<size_t>(entry->partition);
      if (p >= known_.size()) continue;  // A partition added after start: not followed.
      known_[p] = std::max(known_[p], entry->offset + 1);
      bytes_ += entry->bytes;
      ring_.push_back(std::move(entry));
    }
    for (const auto& [partition, end] : ends) {
      const auto p = static_cast<size_t>(partition);
      // The end is reported after every record before it was delivered.
      if (p < known_.size()) known_[p] = std::max(known_[p], end);
    }
    while (!ring_.empty() && (bytes_ > options_.max_bytes || ring_.size() > options_.max_entries)) {
      const TailEntry& oldest = *ring_.front();
      base_[static_cast<size_t>(oldest.partition)] = oldest.offset + 1;
      bytes_ -= oldest.bytes;
      ring_.pop_front();
      ++first_seq_;
      ++stats_.evicted;
    }
    listeners.swap(listeners_);
  }
  for (const std::weak_ptr<TailListener>& weak : listeners) {
    if (std::shared_ptr<TailListener> listener = weak.lock()) listener->OnTailAdvanced();
  }
}

LogTail::Slice LogTail::Read(uint64_t seq, size_t max,
                             const std::weak_ptr<TailListener>& listener) {
  Slice slice;
  absl::MutexLock lock(&mu_);
  const uint64_t head = first_seq_ + ring_.size();
  if (seq < first_seq_) {
    slice.behind = true;
    slice.next_seq = seq;
    return slice;
  }
  const uint64_t end = std::min<uint64_t>(head, seq + max);
  slice.entries.reserve(static_cast<size_t>(end - std::min(seq, end)));
  for (uint64_t s = seq; s < end; ++s) slice.entries.push_back(ring_[s - first_seq_]);
  slice.next_seq = std::max(seq, end);
  slice.at_head = slice.next_seq >= head;
  if (slice.at_head) slice.known = known_;
  if (slice.at_head && !listener.expired()) listeners_.push_back(listener);
  return slice;
}

std::optional<uint64_t> LogTail::JoinAt(const std::vector<int64_t>& next) const {
  absl::MutexLock lock(&mu_);
  bool ahead_everywhere = true;
  for (size_t p = 0; p < base_.size(); ++p) {
    const int64_t at = p < next.size() ? next[p] : 0;
    if (at < base_[p]) return std::nullopt;
    if (at < known_[p]) ahead_everywhere = false;
  }
  // A reader at or past everything the tail has read starts at the head; otherwise at the
  // oldest entry, skipping what it has read already.
  return ahead_everywhere ? first_seq_ + ring_.size() : first_seq_;
}

std::vector<int64_t> LogTail::Known() const {
  absl::MutexLock lock(&mu_);
  return known_;
}

absl::Status LogTail::health() const {
  absl::MutexLock lock(&mu_);
  return health_;
}

size_t LogTail::ring_bytes() const {
  absl::MutexLock lock(&mu_);
  return bytes_;
}

}  // namespace coop::stream
