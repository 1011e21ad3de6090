#include "services/publisher/log_follower.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/events/record_codec.h"
#include "common/kafka/kafka_status.h"
#include "common/status_macros.h"
#include "google/protobuf/util/time_util.h"
#include "spdlog/spdlog.h"

namespace coop::publisher {
namespace {

constexpr absl::Duration kExpireEvery = absl::Seconds(10);

// Calls `fn` until it succeeds, fails with a non-retriable error, or `deadline` passes. Right
// after a topic is created or a leader moves, brokers answer NOT_LEADER for a moment.
template <typename Fn>
auto RetryUntil(absl::Time deadline, Fn fn) -> decltype(fn()) {
  while (true) {
    auto result = fn();
    if (result.ok() || !kafka::IsRetriable(result.status()) ||
        absl::Now() + absl::Milliseconds(200) >= deadline) {
      return result;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<LogFollower>> LogFollower::Start(const kafka::KafkaConfig& config,
                                                                const std::string& topic,
                                                                DedupIndex* index,
                                                                absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  COOP_ASSIGN_OR_RETURN(
      std::unique_ptr<kafka::Consumer> consumer,
      kafka::Consumer::Create(config, kafka::ConsumerOptions{.report_end_of_partition = true}));
  const absl::Time window_start = absl::Now() - index->window();
  COOP_ASSIGN_OR_RETURN(int32_t partitions, RetryUntil(deadline, [&] {
                          return consumer->PartitionCount(topic, deadline - absl::Now());
                        }));
  COOP_ASSIGN_OR_RETURN(auto start_offsets, RetryUntil(deadline, [&] {
                          return consumer->OffsetsForTime(topic, partitions, window_start,
                                                          deadline - absl::Now());
                        }));
  COOP_ASSIGN_OR_RETURN(auto end_offsets, RetryUntil(deadline, [&] {
                          return consumer->EndOffsets(topic, partitions, deadline - absl::Now());
                        }));
  COOP_RETURN_IF_ERROR(consumer->AssignAll(topic, start_offsets));

  std::unique_ptr<LogFollower> follower(
      new LogFollower(std::move(consumer), topic, partitions, index));
  {
    absl::MutexLock lock(&follower->mu_);
    for (const auto& [partition, offset] : start_offsets) {
      follower->next_offsets_[partition] = offset >= 0 ? offset : end_offsets[partition];
    }
  }
  follower->thread_ = std::thread([raw = follower.get()] { raw->Run(); });
  if (!follower->AwaitReadUpTo(end_offsets, deadline)) {
    return absl::DeadlineExceededError(absl::StrCat("loading the dedup window of ", topic,
                                                    " took longer than ",
                                                    absl::FormatDuration(timeout)));
  }
  spdlog::info("dedup window loaded topic={} partitions={} events={}", topic, partitions,
               index->size());
  return follower;
}

LogFollower::LogFollower(std::unique_ptr<kafka::Consumer> consumer, std::string topic,
                         int32_t partitions, DedupIndex* index)
    : consumer_(std::move(consumer)),
      topic_(std::move(topic)),
      partitions_(partitions),
      index_(index) {}

LogFollower::~LogFollower() {
  stopping_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
}

bool LogFollower::AwaitReadUpTo(const std::map<int32_t, int64_t>& end_offsets,
                                absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto caught_up = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (const auto& [partition, end] : end_offsets) {
      auto it = next_offsets_.find(partition);
      if (it == next_offsets_.end() || it->second < end) return false;
    }
    return true;
  };
  return mu_.AwaitWithDeadline(absl::Condition(&caught_up), deadline);
}

void LogFollower::Run() {
  absl::Time next_expiry = absl::Now() + kExpireEvery;
  absl::Time last_error_log = absl::InfinitePast();
  while (!stopping_.load(std::memory_order_acquire)) {
    absl::StatusOr<std::optional<kafka::ConsumedRecord>> polled =
        consumer_->Poll(absl::Milliseconds(100));
    if (absl::Now() >= next_expiry) {
      index_->Expire(absl::Now());
      next_expiry = absl::Now() + kExpireEvery;
    }
    if (!polled.ok()) {
      // Brokers come and go; librdkafka reconnects by itself. Rate-limited: one line a minute.
      if (absl::Now() - last_error_log > absl::Minutes(1)) {
        spdlog::warn("log follower: {}", polled.status().ToString());
        last_error_log = absl::Now();
      }
      continue;
    }
    if (!polled->has_value()) continue;
    const kafka::ConsumedRecord& consumed = **polled;
    const std::optional<absl::string_view> source =
        events::FindHeader(consumed.record, "ce_source");
    const std::optional<absl::string_view> id = events::FindHeader(consumed.record, "ce_id");
    // Most records are this instance's own writes, already recorded when Kafka acknowledged
    // them: the headers tell, without decoding and digesting the value again.
    const bool already_recorded =
        source.has_value() && id.has_value() && index_->Contains(*source, *id);
    if (!consumed.end_of_partition && !already_recorded) {
      absl::StatusOr<coop::v1::Event> event = events::DecodeRecord(consumed.record);
      if (event.ok()) {
        index_->Record(event->source(), event->id(),
                       RecordedEvent{.digest = DigestEvent(*event),
                                     .partition = consumed.position.partition,
                                     .offset = consumed.position.offset,
                                     .recorded_time = absl::FromUnixMillis(
                                         google::protobuf::util::TimeUtil::TimestampToMilliseconds(
                                             event->recorded_time()))});
      }
    }
    const int64_t next =
        consumed.end_of_partition ? consumed.position.offset : consumed.position.offset + 1;
    absl::MutexLock lock(&mu_);
    int64_t& known = next_offsets_[consumed.position.partition];
    if (next > known) known = next;
  }
}

}  // namespace coop::publisher
