// Prometheus metrics of coop-stream, read from the tail and the subscription hub at scrape time.
#ifndef COOP_SERVICES_STREAM_METRICS_H_
#define COOP_SERVICES_STREAM_METRICS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/stream/log_tail.h"
#include "services/stream/stream_service.h"
#include "services/stream/subscriptions.h"

namespace coop::stream {

class StreamMetricsServer {
 public:
  // Serves /metrics on `listen` (host:port; port 0 picks one). The arguments must outlive it.
  static absl::StatusOr<std::unique_ptr<StreamMetricsServer>> Start(const std::string& listen,
                                                                    const LogTail& tail,
                                                                    const SubscriptionHub& hub,
                                                                    const StreamService& service);
  ~StreamMetricsServer();
  int port() const;

 private:
  struct Impl;
  explicit StreamMetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace coop::stream

#endif  // COOP_SERVICES_STREAM_METRICS_H_
