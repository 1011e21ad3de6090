// Prometheus metrics of coop-views, read from the engine at scrape time.
#ifndef COOP_CONSUMERS_VIEWS_METRICS_H_
#define COOP_CONSUMERS_VIEWS_METRICS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "consumers/views/views_engine.h"

namespace coop::views {

class ViewsMetricsServer {
 public:
  // Serves /metrics on `listen` (host:port; port 0 picks one): counters of the serving
  // generation's consumer (coop_views_events_applied_total, coop_views_duplicates_total,
  // coop_views_dead_lettered_total, coop_views_batches_total, coop_views_aborted_batches_total)
  // and the serving generation number (coop_views_serving_generation).
  static absl::StatusOr<std::unique_ptr<ViewsMetricsServer>> Start(const std::string& listen,
                                                                   const ViewsEngine& engine);
  ~ViewsMetricsServer();
  int port() const;

 private:
  struct Impl;
  explicit ViewsMetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace coop::views

#endif  // COOP_CONSUMERS_VIEWS_METRICS_H_
