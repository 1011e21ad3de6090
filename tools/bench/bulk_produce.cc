#include "tools/bench/bulk_produce.h"

#include <atomic>
#include <map>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "common/events/record_codec.h"
#include "common/kafka/producer.h"
#include "common/status_macros.h"
#include "tools/bench/measurement.h"

namespace coop::bench {
namespace {

constexpr int64_t kProgressEvery = 100'000;

// Bulk settings for the one-off load; the readers under test read what any producer wrote.
const std::map<std::string, std::string>& BulkProducerProperties() {
  static const auto* properties = new std::map<std::string, std::string>{
      {"linger.ms", "50"},
      {"batch.num.messages", "10000"},
      {"batch.size", "1000000"},
      {"queue.buffering.max.messages", "200000"},
      {"queue.buffering.max.kbytes", "262144"},
  };
  return *properties;
}

}  // namespace

absl::StatusOr<double> ProduceEvents(const kafka::KafkaConfig& kafka, const std::string& topic,
                                     absl::Span<const coop::v1::Event> events,
                                     std::ostream& progress) {
  // Declared before the producer: its destructor may still run delivery callbacks.
  std::atomic<int64_t> answered{0};
  absl::Mutex mu;
  absl::Status first_error;  // Guarded by mu.
  kafka::KafkaConfig bulk = kafka;
  for (const auto& [name, value] : BulkProducerProperties()) bulk.properties.emplace(name, value);
  COOP_ASSIGN_OR_RETURN(std::unique_ptr<kafka::Producer> producer, kafka::Producer::Create(bulk));
  const int64_t start_ns = NowNanos();
  for (size_t i = 0; i < events.size(); ++i) {
    COOP_ASSIGN_OR_RETURN(const kafka::KafkaRecord record, events::EncodeRecord(events[i]));
    absl::Status queued;
    do {
      queued = producer->Produce(topic, record, [&](absl::StatusOr<kafka::RecordPosition> done) {
        if (!done.ok()) {
          absl::MutexLock lock(&mu);
          if (first_error.ok()) first_error = done.status();
        }
        answered.fetch_add(1, std::memory_order_release);
      });
      if (absl::IsResourceExhausted(queued)) absl::SleepFor(absl::Milliseconds(1));
    } while (absl::IsResourceExhausted(queued));
    COOP_RETURN_IF_ERROR(queued);
    if ((i + 1) % kProgressEvery == 0) progress << "  produced " << (i + 1) << "\n";
  }
  const auto total = static_cast<int64_t>(events.size());
  while (answered.load(std::memory_order_acquire) < total) absl::SleepFor(absl::Milliseconds(1));
  const int64_t end_ns = NowNanos();
  absl::MutexLock lock(&mu);
  COOP_RETURN_IF_ERROR(first_error);
  return static_cast<double>(end_ns - start_ns) / 1e9;
}

}  // namespace coop::bench
