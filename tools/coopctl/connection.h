// How coopctl reaches a coopstream server: the connection, TLS and token flags every command
// that calls a service shares.
#ifndef COOP_TOOLS_COOPCTL_CONNECTION_H_
#define COOP_TOOLS_COOPCTL_CONNECTION_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "grpcpp/grpcpp.h"

namespace coop::ctl {

struct ConnectionOptions {
  // host:port of the server.
  std::string address;
  // API key, sent as "authorization: Bearer <token>"; empty: none (mutual TLS, or a server
  // with an anonymous principal).
  std::string token;
  // TLS: on when `tls` is set or any of the files is given. `tls_ca`: PEM of the CA that signed
  // the server's certificate (empty: the system's roots). `tls_cert`/`tls_key`: the client
  // certificate and key for mutual TLS.
  bool tls = false;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  // Deadline of each call.
  absl::Duration timeout = absl::Seconds(30);
};

// A channel to options.address with the credentials the options say. INVALID_ARGUMENT naming
// the flag when a TLS file cannot be read or only one of --tls_cert and --tls_key is given.
absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const ConnectionOptions& options);

// Sets the call's deadline and token.
void PrepareContext(const ConnectionOptions& options, grpc::ClientContext& context);

// Sets only the call's token: for streams that run as long as the user wants (subscribe,
// replay), which end by `CancelOnStop` instead of a deadline.
void Authorize(const ConnectionOptions& options, grpc::ClientContext& context);

// While it lives, cancels `context` once `stop` turns true (Ctrl-C), looking every 100 ms; the
// call's reading loop then ends.
class CancelOnStop {
 public:
  CancelOnStop(grpc::ClientContext& context, const std::atomic<bool>& stop);
  ~CancelOnStop();
  CancelOnStop(const CancelOnStop&) = delete;
  CancelOnStop& operator=(const CancelOnStop&) = delete;

 private:
  absl::Notification done_;
  std::thread watcher_;
};

// An RFC 3339 time ("2025-09-10T00:00:00Z") as a Timestamp; INVALID_ARGUMENT with the parser's
// reason otherwise.
absl::StatusOr<google::protobuf::Timestamp> ParseRfc3339(absl::string_view text);

// The RFC 3339 value of command-line flag `flag`; INVALID_ARGUMENT naming the flag, the value
// and an example otherwise.
absl::StatusOr<google::protobuf::Timestamp> TimeFlag(absl::string_view flag,
                                                     absl::string_view text);

// The status of a failed call as a message: "CODE: message", then each field violation of a
// BadRequest detail ("; events[0].hub_milestone.hub_id: must be a slug").
std::string DescribeRpcError(const grpc::Status& status);

// The absl status of a failed call, DescribeRpcError as its message.
absl::Status FromRpcError(const grpc::Status& status, const std::string& context);

}  // namespace coop::ctl

#endif  // COOP_TOOLS_COOPCTL_CONNECTION_H_
