#include "common/kafka/transactional_producer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/kafka/internal/client_conf.h"
#include "common/kafka/internal/handles.h"
#include "common/kafka/internal/produce.h"
#include "common/kafka/kafka_status.h"
#include "common/status_macros.h"

namespace coop::kafka {
namespace {

// Filled by the delivery report of one record of the running transaction.
struct Delivery {
  absl::Status status = absl::UnavailableError("no delivery report");
  RecordPosition position;
};

void OnDeliveryReport(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message, void* /*opaque*/) {
  auto* delivery = static_cast<Delivery*>(message->_private);
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    delivery->status = KafkaErrorToStatus(message->err, "deliver record in transaction");
    return;
  }
  rd_kafka_timestamp_type_t type;
  const int64_t ms = rd_kafka_message_timestamp(message, &type);
  delivery->status = absl::OkStatus();
  delivery->position = RecordPosition{.topic = rd_kafka_topic_name(message->rkt),
                                      .partition = message->partition,
                                      .offset = message->offset,
                                      .timestamp = absl::FromUnixMillis(ms)};
}

int Ms(absl::Duration d) {
  return static_cast<int>(std::max<int64_t>(1, absl::ToInt64Milliseconds(d)));
}

// Converts (and frees) a librdkafka transaction error.
absl::Status TxnError(rd_kafka_error_t* raw, absl::string_view what) {
  internal::ErrorHandle error(raw);
  if (error == nullptr) return absl::OkStatus();
  absl::Status status =
      KafkaErrorToStatus(rd_kafka_error_code(error.get()),
                         absl::StrCat(what, ": ", rd_kafka_error_string(error.get())));
  if (rd_kafka_error_is_fatal(error.get())) {
    return absl::InternalError(absl::StrCat("fatal: ", status.message()));
  }
  return status;
}

}  // namespace

struct TransactionalProducer::Impl {
  absl::Mutex mu;
  // One transaction at a time: the caller that set `busy` owns `client` until it clears it.
  bool busy ABSL_GUARDED_BY(mu) = false;
  internal::KafkaHandle client;
};

TransactionalProducer::TransactionalProducer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TransactionalProducer::~TransactionalProducer() = default;

absl::StatusOr<std::unique_ptr<TransactionalProducer>> TransactionalProducer::Create(
    const KafkaConfig& config, const std::string& transactional_id, absl::Duration timeout) {
  COOP_ASSIGN_OR_RETURN(internal::ConfHandle conf,
                        internal::MakeConf(config, {
                                                       {"transactional.id", transactional_id},
                                                       {"acks", "all"},
                                                       {"enable.idempotence", "true"},
                                                   }));
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &OnDeliveryReport);
  auto impl = std::make_unique<Impl>();
  COOP_ASSIGN_OR_RETURN(impl->client, internal::NewClient(RD_KAFKA_PRODUCER, std::move(conf)));
  COOP_RETURN_IF_ERROR(
      TxnError(rd_kafka_init_transactions(impl->client.get(), Ms(timeout)), "init transactions"));
  return std::unique_ptr<TransactionalProducer>(new TransactionalProducer(std::move(impl)));
}

absl::StatusOr<std::vector<RecordPosition>> TransactionalProducer::WriteAll(
    absl::string_view topic, const std::vector<KafkaRecord>& records, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  // Waiting for the previous transaction counts against this call's deadline too.
  {
    absl::MutexLock lock(&impl_->mu);
    auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(impl_->mu) { return !impl_->busy; };
    if (!impl_->mu.AwaitWithDeadline(absl::Condition(&idle), deadline)) {
      return absl::UnavailableError(
          "another batch's transaction did not finish before this call's deadline; nothing was "
          "written: retry");
    }
    impl_->busy = true;
  }
  struct Release {
    Impl* impl;
    ~Release() {
      absl::MutexLock lock(&impl->mu);
      impl->busy = false;
    }
  } release{impl_.get()};
  rd_kafka_t* rk = impl_->client.get();
  COOP_RETURN_IF_ERROR(TxnError(rd_kafka_begin_transaction(rk), "begin transaction"));

  std::vector<Delivery> deliveries(records.size());
  const std::string topic_name(topic);
  absl::Status failed;
  for (size_t i = 0; i < records.size() && failed.ok(); ++i) {
    const rd_kafka_resp_err_t err =
        internal::ProduceRecord(rk, topic_name, records[i], &deliveries[i]);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      failed = KafkaErrorToStatus(err, absl::StrCat("produce to ", topic, " in transaction"));
    }
  }
  if (failed.ok()) {
    // Commit flushes, which serves the delivery reports on this thread.
    failed =
        TxnError(rd_kafka_commit_transaction(rk, Ms(deadline - absl::Now())), "commit transaction");
  }
  if (failed.ok()) {
    std::vector<RecordPosition> positions;
    positions.reserve(records.size());
    for (Delivery& delivery : deliveries) {
      if (!delivery.status.ok()) return delivery.status;  // Cannot happen after a commit.
      positions.push_back(std::move(delivery.position));
    }
    return positions;
  }
  // Abort also purges what is still queued, so `deliveries` are not written to afterwards.
  absl::Status aborted = TxnError(
      rd_kafka_abort_transaction(rk, Ms(std::max(deadline - absl::Now(), absl::Seconds(5)))),
      "abort transaction");
  if (!aborted.ok()) {
    // Delivery reports point into `deliveries`: none may come after this call returns.
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (rd_kafka_outq_len(rk) > 0 && absl::Now() < give_up) rd_kafka_poll(rk, 100);
    return absl::Status(failed.code(),
                        absl::StrCat(failed.message(), "; then ", aborted.message()));
  }
  return failed;
}

absl::Status TransactionalProducer::health() const {
  char reason[512] = {0};
  const rd_kafka_resp_err_t err = rd_kafka_fatal_error(impl_->client.get(), reason, sizeof(reason));
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("the transactional producer failed for good (",
                                          rd_kafka_err2name(err), "): ", reason));
}

}  // namespace coop::kafka
