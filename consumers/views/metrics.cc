#include "consumers/views/metrics.h"

#include <utility>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace coop::views {
namespace {

prometheus::MetricFamily Family(const char* name, const char* help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  return family;
}

class EngineCollectable : public prometheus::Collectable {
 public:
  explicit EngineCollectable(const ViewsEngine& engine) : engine_(engine) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    const ViewConsumerStats& stats = engine_.serving_stats();
    using prometheus::MetricType;
    return {
        Family("coop_views_events_applied_total", "Events applied to the serving generation",
               MetricType::Counter, static_cast<double>(stats.applied.load())),
        Family("coop_views_duplicates_total",
               "Events skipped because their (source, id) was already applied", MetricType::Counter,
               static_cast<double>(stats.duplicates.load())),
        Family("coop_views_dead_lettered_total",
               "Records sent to the dead-letter topic (undecodable, unknown type, invalid)",
               MetricType::Counter, static_cast<double>(stats.dead_lettered.load())),
        Family("coop_views_batches_total", "Batches committed", MetricType::Counter,
               static_cast<double>(stats.batches.load())),
        Family("coop_views_aborted_batches_total",
               "Batches dropped because another instance had moved a partition",
               MetricType::Counter, static_cast<double>(stats.aborted_batches.load())),
        Family("coop_views_serving_generation", "The serving view generation", MetricType::Gauge,
               static_cast<double>(engine_.serving_generation())),
        Family("coop_views_consumer_up", "1 while the serving consumer runs", MetricType::Gauge,
               engine_.health().ok() ? 1.0 : 0.0),
    };
  }

 private:
  const ViewsEngine& engine_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> MakeViewsMetrics(const ViewsEngine& engine) {
  return std::make_shared<EngineCollectable>(engine);
}

}  // namespace coop::views
