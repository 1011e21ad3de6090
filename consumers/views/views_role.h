// The views role of a coopstream server: the views engine (consumers of the log into SQLite or
// PostgreSQL, generations, rebuild, as-of) behind coop.v1.Views, and its metrics.
#ifndef COOP_CONSUMERS_VIEWS_VIEWS_ROLE_H_
#define COOP_CONSUMERS_VIEWS_VIEWS_ROLE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/auth/authenticator.h"
#include "common/server/role.h"
#include "consumers/views/views_engine.h"
#include "consumers/views/views_service.h"

namespace coop::views {

class ViewsRole final : public server::Role {
 public:
  // Opens the store and starts the serving generation's consumer (ViewsEngine::Start).
  // `authenticator` must outlive the role.
  static absl::StatusOr<std::unique_ptr<ViewsRole>> Create(
      ViewsEngineOptions options, const auth::Authenticator& authenticator);
  // Commits the batch in hand and stops the consumers.
  ~ViewsRole() override;

  std::string name() const override { return "views"; }
  std::vector<HostedService> services() override;
  std::shared_ptr<prometheus::Collectable> metrics() override { return metrics_; }
  // Follows the serving consumer: not OK once it has stopped on an error (the views would only
  // grow stale); OK again if a switch to a new generation brings one back.
  absl::Status health() const override { return engine_->health(); }
  std::string Describe() const override;

 private:
  ViewsRole(ViewsEngineOptions options, std::unique_ptr<ViewsEngine> engine,
            const auth::Authenticator& authenticator);

  ViewsEngineOptions options_;
  std::unique_ptr<ViewsEngine> engine_;
  ViewsService service_;
  std::shared_ptr<prometheus::Collectable> metrics_;
};

}  // namespace coop::views

#endif  // COOP_CONSUMERS_VIEWS_VIEWS_ROLE_H_
