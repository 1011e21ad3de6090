// coop.v1.Views over gRPC: authenticates and authorises each call, validates the request, waits
// for its min_position and answers from one snapshot of the serving generation (ViewSource),
// with the cursor of that snapshot.
//
// Who may call: every call needs credentials the Authenticator accepts (else UNAUTHENTICATED);
// the queries need a principal with a subscribe scope, Rebuild and GetRebuild the operator role
// (else PERMISSION_DENIED). The timeline lists only events in the caller's subscribe scope; the
// other answers are state summed over many events and are not narrowed (views.proto defines no
// such narrowing): a principal that may read events reads every agreement, hub, trade row and
// region.
//
// Synchronous gRPC API on purpose: a call blocks while it waits for min_position (up to its
// deadline, 30 s without one) and while its SQL runs. The synchronous server gives each call a
// thread of its own (main caps them with grpc::ResourceQuota::SetMaxThreads), where the callback
// API would need a separate executor to keep blocking work off gRPC's threads.
//
// Thread-safe; one instance serves all calls.
#ifndef COOP_CONSUMERS_VIEWS_VIEWS_SERVICE_H_
#define COOP_CONSUMERS_VIEWS_VIEWS_SERVICE_H_

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/authenticator.h"
#include "consumers/views/view_queries.h"
#include "consumers/views/view_source.h"
#include "coop/v1/views.grpc.pb.h"

namespace coop::views {

struct ViewsServiceOptions {
  // How long a call without a deadline waits for its min_position (views.proto: 30 s).
  absl::Duration default_wait = absl::Seconds(30);
  QueryLimits limits;
};

class ViewsService final : public coop::v1::Views::Service {
 public:
  // `source` and `authenticator` must outlive the service.
  ViewsService(ViewSource& source, const auth::Authenticator& authenticator,
               ViewsServiceOptions options = {});

  grpc::Status GetAgreement(grpc::ServerContext* context,
                            const coop::v1::GetAgreementRequest* request,
                            coop::v1::GetAgreementResponse* response) override;
  grpc::Status ListAgreements(grpc::ServerContext* context,
                              const coop::v1::ListAgreementsRequest* request,
                              coop::v1::ListAgreementsResponse* response) override;
  grpc::Status GetHub(grpc::ServerContext* context, const coop::v1::GetHubRequest* request,
                      coop::v1::GetHubResponse* response) override;
  grpc::Status ListHubs(grpc::ServerContext* context, const coop::v1::ListHubsRequest* request,
                        coop::v1::ListHubsResponse* response) override;
  grpc::Status ListTradeRows(grpc::ServerContext* context,
                             const coop::v1::ListTradeRowsRequest* request,
                             coop::v1::ListTradeRowsResponse* response) override;
  grpc::Status GetRegion(grpc::ServerContext* context, const coop::v1::GetRegionRequest* request,
                         coop::v1::GetRegionResponse* response) override;
  grpc::Status ListRegions(grpc::ServerContext* context,
                           const coop::v1::ListRegionsRequest* request,
                           coop::v1::ListRegionsResponse* response) override;
  grpc::Status ListTimeline(grpc::ServerContext* context,
                            const coop::v1::ListTimelineRequest* request,
                            coop::v1::ListTimelineResponse* response) override;
  grpc::Status Rebuild(grpc::ServerContext* context, const coop::v1::RebuildRequest* request,
                       coop::v1::RebuildResponse* response) override;
  grpc::Status GetRebuild(grpc::ServerContext* context, const coop::v1::GetRebuildRequest* request,
                          coop::v1::GetRebuildResponse* response) override;

 private:
  // The common path of the queries: checks, then `query` and the cursor inside one read.
  template <typename Request, typename Response>
  absl::Status Answer(grpc::ServerContext& context, const Request& request, Response& response,
                      absl::FunctionRef<absl::StatusOr<Response>(sql::Connection&)> query);
  // UNAUTHENTICATED, or PERMISSION_DENIED unless the caller is an operator.
  absl::Status AuthorizeOperator(grpc::ServerContext& context) const;

  ViewSource& source_;
  const auth::Authenticator& authenticator_;
  const ViewsServiceOptions options_;
};

}  // namespace coop::views

#endif  // COOP_CONSUMERS_VIEWS_VIEWS_SERVICE_H_
