#include "services/stream/metrics.h"

#include <utility>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace coop::stream {
namespace {

using prometheus::MetricType;

prometheus::MetricFamily Family(const char* name, const char* help, MetricType type, double value) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  return family;
}

class StreamCollectable : public prometheus::Collectable {
 public:
  StreamCollectable(const LogTail& tail, const SubscriptionHub& hub, const StreamService& service)
      : tail_(tail), hub_(hub), service_(service) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    const SubscriptionStats& s = hub_.stats();
    const LogTailStats& t = tail_.stats();
    return {
        Family("coop_stream_subscriptions", "Subscriptions open", MetricType::Gauge,
               static_cast<double>(s.active.load())),
        Family("coop_stream_subscriptions_live", "Subscriptions reading the shared tail",
               MetricType::Gauge, static_cast<double>(s.live.load())),
        Family("coop_stream_subscriptions_catching_up", "Subscriptions holding a catch-up reader",
               MetricType::Gauge, static_cast<double>(s.catching_up.load())),
        Family("coop_stream_events_delivered_total", "Events queued or written to subscribers",
               MetricType::Counter, static_cast<double>(s.delivered.load())),
        Family("coop_stream_heartbeats_total", "Heartbeats sent", MetricType::Counter,
               static_cast<double>(s.heartbeats.load())),
        Family("coop_stream_fell_behind_total",
               "Times a live subscription's next record left the ring", MetricType::Counter,
               static_cast<double>(s.fell_behind.load())),
        Family("coop_stream_exhausted_total",
               "Subscriptions ended because no catch-up reader was free", MetricType::Counter,
               static_cast<double>(s.exhausted.load())),
        Family("coop_stream_tail_records_total", "Records the shared tail has read",
               MetricType::Counter, static_cast<double>(t.records.load())),
        Family("coop_stream_tail_undecodable_total",
               "Records the tail passed over because they do not decode", MetricType::Counter,
               static_cast<double>(t.undecodable.load())),
        Family("coop_stream_ring_bytes", "Bytes of records held in the shared ring",
               MetricType::Gauge, static_cast<double>(tail_.ring_bytes())),
        Family("coop_stream_replays", "Replays running", MetricType::Gauge,
               static_cast<double>(service_.replays_running())),
    };
  }

 private:
  const LogTail& tail_;
  const SubscriptionHub& hub_;
  const StreamService& service_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> MakeStreamMetrics(const LogTail& tail,
                                                           const SubscriptionHub& hub,
                                                           const StreamService& service) {
  return std::make_shared<StreamCollectable>(tail, hub, service);
}

}  // namespace coop::stream
