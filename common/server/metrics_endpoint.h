// One HTTP endpoint serving /metrics (Prometheus text format) for the collectables registered
// with it: one per address, shared by the roles of a process that are given the same address.
#ifndef COOP_COMMON_SERVER_METRICS_ENDPOINT_H_
#define COOP_COMMON_SERVER_METRICS_ENDPOINT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace prometheus {
class Collectable;
class Exposer;
}  // namespace prometheus

namespace coop::server {

class MetricsEndpoint {
 public:
  // Listens on `address` (host:port; port 0 picks a free port). INVALID_ARGUMENT when
  // `address` is empty, UNAVAILABLE when it cannot be bound (in use, not a local address).
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(const std::string& address);
  // Stops listening; waits for scrapes being served (civetweb may take ~2 s to stop).
  ~MetricsEndpoint();

  // Adds a collectable; the endpoint holds it only weakly, so a scrape after the collectable is
  // gone leaves it out.
  void Register(const std::shared_ptr<prometheus::Collectable>& collectable);

  // The port listened on.
  int port() const { return port_; }

 private:
  MetricsEndpoint(std::unique_ptr<prometheus::Exposer> exposer, int port);

  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_;
};

}  // namespace coop::server

#endif  // COOP_COMMON_SERVER_METRICS_ENDPOINT_H_
