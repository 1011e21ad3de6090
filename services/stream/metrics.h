// Prometheus metrics of coop-stream, read from the tail and the subscription hub at scrape time.
#ifndef COOP_SERVICES_STREAM_METRICS_H_
#define COOP_SERVICES_STREAM_METRICS_H_

#include <memory>

#include "services/stream/log_tail.h"
#include "services/stream/stream_service.h"
#include "services/stream/subscriptions.h"

namespace prometheus {
class Collectable;
}  // namespace prometheus

namespace coop::stream {

// The metrics of the stream role, read from the tail, the hub and the service at scrape time;
// the arguments must outlive the collectable's scrapes.
std::shared_ptr<prometheus::Collectable> MakeStreamMetrics(const LogTail& tail,
                                                           const SubscriptionHub& hub,
                                                           const StreamService& service);

}  // namespace coop::stream

#endif  // COOP_SERVICES_STREAM_METRICS_H_
