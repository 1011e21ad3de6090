// Prometheus metrics of coop-views, read from the engine at scrape time.
#ifndef COOP_CONSUMERS_VIEWS_METRICS_H_
#define COOP_CONSUMERS_VIEWS_METRICS_H_

#include <memory>

#include "consumers/views/views_engine.h"

namespace prometheus {
class Collectable;
}  // namespace prometheus

namespace coop::views {

// The metrics of the views role, read from the engine at scrape time: counters of the serving
// generation's consumer (coop_views_events_applied_total, coop_views_duplicates_total,
// coop_views_dead_lettered_total, coop_views_batches_total, coop_views_aborted_batches_total),
// the serving generation number (coop_views_serving_generation) and coop_views_consumer_up. The
// engine must outlive the collectable's scrapes.
std::shared_ptr<prometheus::Collectable> MakeViewsMetrics(const ViewsEngine& engine);

}  // namespace coop::views

#endif  // COOP_CONSUMERS_VIEWS_METRICS_H_
