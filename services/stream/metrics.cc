#include "services/stream/metrics.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "prometheus/collectable.h"
#include "prometheus/exposer.h"
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

struct StreamMetricsServer::Impl {
  std::unique_ptr<prometheus::Exposer> exposer;
  std::shared_ptr<StreamCollectable> collectable;
};

StreamMetricsServer::StreamMetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StreamMetricsServer::~StreamMetricsServer() = default;

absl::StatusOr<std::unique_ptr<StreamMetricsServer>> StreamMetricsServer::Start(
    const std::string& listen, const LogTail& tail, const SubscriptionHub& hub,
    const StreamService& service) {
  auto impl = std::make_unique<Impl>();
  try {
    impl->exposer = std::make_unique<prometheus::Exposer>(listen);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", listen, ": ", e.what()));
  }
  impl->collectable = std::make_shared<StreamCollectable>(tail, hub, service);
  impl->exposer->RegisterCollectable(impl->collectable);
  return std::unique_ptr<StreamMetricsServer>(new StreamMetricsServer(std::move(impl)));
}

int StreamMetricsServer::port() const {
  const std::vector<int> ports = impl_->exposer->GetListeningPorts();
  return ports.empty() ? 0 : ports[0];
}

}  // namespace coop::stream
