#include "services/publisher/metrics.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace coop::publisher {
namespace {

constexpr const char* kMethodNames[] = {"Publish", "PublishBatch", "PublishStream"};

// 1-2.5-5 steps: readable bucket bounds, roughly exponential.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *buckets;
}

// The oneof whose set field names an event's type (events::PayloadTypeName reads the same).
const google::protobuf::OneofDescriptor& PayloadOneof() {
  static const google::protobuf::OneofDescriptor* const oneof =
      coop::v1::Event::descriptor()->FindOneofByName("payload");
  return *oneof;
}

// 0..16. absl::Status keeps codes it does not know as UNKNOWN already; this only guards the
// array index.
int CodeIndex(absl::StatusCode code) {
  const int index = static_cast<int>(code);
  return index >= 0 && index < 17 ? index : static_cast<int>(absl::StatusCode::kUnknown);
}

}  // namespace

EventFlag EventFlagOf(const absl::StatusOr<coop::v1::PublishAck>& answer) {
  if (answer.ok()) return answer->duplicate() ? EventFlag::kDuplicate : EventFlag::kNone;
  return answer.status().code() == absl::StatusCode::kInvalidArgument ? EventFlag::kInvalid
                                                                      : EventFlag::kNone;
}

// What a scrape collects: the registry, after sampling the gauges read from Sources.
class PublisherMetrics::Exported final : public prometheus::Collectable {
 public:
  explicit Exported(Sources sources) : sources_(std::move(sources)) {
    calls = &prometheus::BuildCounter()
                 .Name("coop_publisher_calls_total")
                 .Help("Finished calls by method and status code; a stream counts when it ends")
                 .Register(registry_);
    events = &prometheus::BuildCounter()
                  .Name("coop_publisher_events_total")
                  .Help("Events answered, by payload type and the status code their sender got")
                  .Register(registry_);
    latency = &prometheus::BuildHistogram()
                   .Name("coop_publisher_ack_latency_seconds")
                   .Help(
                       "Call start (Publish, PublishBatch) or event read (PublishStream) to "
                       "the answer, in seconds")
                   .Register(registry_);
    duplicates = &prometheus::BuildCounter()
                      .Name("coop_publisher_duplicates_total")
                      .Help("Events acknowledged as duplicates; nothing new was written")
                      .Register(registry_)
                      .Add({});
    validation_failures =
        &prometheus::BuildCounter()
             .Name("coop_publisher_validation_failures_total")
             .Help("Events refused INVALID_ARGUMENT for their own invalid content")
             .Register(registry_)
             .Add({});
    in_flight = &prometheus::BuildGauge()
                     .Name("coop_publisher_in_flight_events")
                     .Help("Events handed to the event publisher and not yet answered")
                     .Register(registry_)
                     .Add({});
    if (sources_.producer_queue_depth) {
      queue_depth_ = &prometheus::BuildGauge()
                          .Name("coop_publisher_producer_queue_depth")
                          .Help("Records queued or in flight in the Kafka producer")
                          .Register(registry_)
                          .Add({});
    }
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    if (queue_depth_ != nullptr) {
      queue_depth_->Set(static_cast<double>(sources_.producer_queue_depth()));
    }
    return registry_.Collect();
  }

  // Families and metrics live in registry_ as long as this does.
  prometheus::Family<prometheus::Counter>* calls = nullptr;
  prometheus::Family<prometheus::Counter>* events = nullptr;
  prometheus::Family<prometheus::Histogram>* latency = nullptr;
  prometheus::Counter* duplicates = nullptr;
  prometheus::Counter* validation_failures = nullptr;
  prometheus::Gauge* in_flight = nullptr;

 private:
  const Sources sources_;
  prometheus::Registry registry_;
  prometheus::Gauge* queue_depth_ = nullptr;
};

PublisherMetrics::PublisherMetrics(Sources sources)
    : exported_(std::make_shared<Exported>(std::move(sources))) {
  event_type_names_.push_back("unknown");
  const google::protobuf::OneofDescriptor& payload = PayloadOneof();
  for (int i = 0; i < payload.field_count(); ++i) {
    event_type_names_.push_back(payload.field(i)->message_type()->full_name());
  }
  events_ = std::vector<std::atomic<prometheus::Counter*>>(event_type_names_.size() * kCodes);
  for (int method = 0; method < kMethods; ++method) {
    latency_[method] =
        &exported_->latency->Add({{"method", kMethodNames[method]}}, LatencyBuckets());
  }
  duplicates_ = exported_->duplicates;
  validation_failures_ = exported_->validation_failures;
  in_flight_ = exported_->in_flight;
}

PublisherMetrics::~PublisherMetrics() = default;

PublisherMetrics::EventType PublisherMetrics::TypeOf(const coop::v1::Event& event) const {
  const google::protobuf::FieldDescriptor* field =
      event.GetReflection()->GetOneofFieldDescriptor(event, &PayloadOneof());
  return EventType{field == nullptr ? 0 : field->index_in_oneof() + 1};
}

// Family::Add returns the existing metric for labels it has seen, so two threads racing to
// fill a slot store the same pointer.
prometheus::Counter& PublisherMetrics::CallCounter(PublishMethod method, absl::StatusCode code) {
  std::atomic<prometheus::Counter*>& slot =
      calls_[static_cast<int>(method) * kCodes + CodeIndex(code)];
  prometheus::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    counter = &exported_->calls->Add(
        {{"method", kMethodNames[static_cast<int>(method)]},
         {"code", absl::StatusCodeToString(static_cast<absl::StatusCode>(CodeIndex(code)))}});
    slot.store(counter, std::memory_order_release);
  }
  return *counter;
}

prometheus::Counter& PublisherMetrics::EventCounter(EventType type, absl::StatusCode code) {
  std::atomic<prometheus::Counter*>& slot =
      events_[static_cast<int>(type) * kCodes + CodeIndex(code)];
  prometheus::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    counter = &exported_->events->Add(
        {{"event_type", event_type_names_[static_cast<int>(type)]},
         {"code", absl::StatusCodeToString(static_cast<absl::StatusCode>(CodeIndex(code)))}});
    slot.store(counter, std::memory_order_release);
  }
  return *counter;
}

void PublisherMetrics::RecordUnaryCall(PublishMethod method, absl::StatusCode code,
                                       absl::Duration latency) {
  CallCounter(method, code).Increment();
  latency_[static_cast<int>(method)]->Observe(absl::ToDoubleSeconds(latency));
}

void PublisherMetrics::RecordStreamCall(absl::StatusCode code) {
  CallCounter(PublishMethod::kPublishStream, code).Increment();
}

void PublisherMetrics::RecordEvent(EventType type, absl::StatusCode code, EventFlag flag) {
  EventCounter(type, code).Increment();
  switch (flag) {
    case EventFlag::kNone:
      break;
    case EventFlag::kDuplicate:
      duplicates_->Increment();
      break;
    case EventFlag::kInvalid:
      validation_failures_->Increment();
      break;
  }
}

void PublisherMetrics::RecordStreamEvent(EventType type, absl::StatusCode code, EventFlag flag,
                                         absl::Duration latency) {
  RecordEvent(type, code, flag);
  latency_[static_cast<int>(PublishMethod::kPublishStream)]->Observe(
      absl::ToDoubleSeconds(latency));
}

void PublisherMetrics::AddInFlight(int64_t count) {
  if (count >= 0) {
    in_flight_->Increment(static_cast<double>(count));
  } else {
    in_flight_->Decrement(static_cast<double>(-count));
  }
}

std::shared_ptr<prometheus::Collectable> PublisherMetrics::collectable() const { return exported_; }

}  // namespace coop::publisher
