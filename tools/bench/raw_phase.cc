#include "tools/bench/raw_phase.h"

#include <librdkafka/rdkafka.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <semaphore>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/events/record_codec.h"

namespace coop::bench {
namespace {

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
struct HeadersDeleter {
  void operator()(rd_kafka_headers_t* headers) const { rd_kafka_headers_destroy(headers); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using ConfHandle = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using HeadersHandle = std::unique_ptr<rd_kafka_headers_t, HeadersDeleter>;

constexpr int64_t kProbeIndex = -1;
constexpr int kProbeTimeoutMs = 30000;

// Shared with the delivery report callback, which runs on the poll thread (and, for the
// probe, inside rd_kafka_flush on the calling thread).
struct Deliveries {
  AckLog* log = nullptr;
  std::counting_semaphore<>* window = nullptr;
  std::atomic<int> probe_error{RD_KAFKA_RESP_ERR__IN_PROGRESS};
};

void OnDelivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message, void* opaque) {
  auto* deliveries = static_cast<Deliveries*>(opaque);
  const auto index = static_cast<int64_t>(reinterpret_cast<intptr_t>(message->_private));
  if (index == kProbeIndex) {
    deliveries->probe_error.store(message->err);
    return;
  }
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    deliveries->log->Failed(index, rd_kafka_err2str(message->err));
  } else {
    deliveries->log->Acked(index);
  }
  deliveries->window->release();
}

absl::StatusOr<KafkaHandle> MakeProducer(const RawPhaseOptions& options, Deliveries* deliveries) {
  ConfHandle conf(rd_kafka_conf_new());
  std::array<char, 512> err{};
  // The publisher's producer settings (common/kafka/producer.cc, event_publisher.cc).
  for (const auto& [name, value] : {
           std::pair<const char*, std::string>{"bootstrap.servers", options.bootstrap_servers},
           {"client.id", "coop-publish-bench"},
           {"acks", "all"},
           {"enable.idempotence", "true"},
           {"linger.ms", absl::StrCat(options.linger_ms)},
           {"message.timeout.ms", "30000"},
           {"queue.buffering.max.messages", "100000"},
       }) {
    if (rd_kafka_conf_set(conf.get(), name, value.c_str(), err.data(), err.size()) !=
        RD_KAFKA_CONF_OK) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": ", err.data()));
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &OnDelivery);
  rd_kafka_conf_set_opaque(conf.get(), deliveries);
  KafkaHandle rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), err.data(), err.size()));
  if (rk == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("cannot create producer: ", err.data()));
  }
  conf.release();  // Owned by rk now.
  return rk;
}

rd_kafka_resp_err_t Produce(rd_kafka_t* rk, const std::string& topic,
                            const kafka::KafkaRecord& record, int64_t index) {
  HeadersHandle headers(rd_kafka_headers_new(record.headers.size()));
  for (const kafka::RecordHeader& header : record.headers) {
    rd_kafka_header_add(headers.get(), header.name.data(), static_cast<ssize_t>(header.name.size()),
                        header.value.data(), static_cast<ssize_t>(header.value.size()));
  }
  const int64_t timestamp_ms = record.timestamp ? absl::ToUnixMillis(*record.timestamp) : 0;
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(record.key.data(), record.key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(record.value.data()), record.value.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_TIMESTAMP(timestamp_ms),
      RD_KAFKA_V_HEADERS(headers.get()),
      RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<intptr_t>(index))), RD_KAFKA_V_END);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) headers.release();  // Owned by the message now.
  return err;
}

}  // namespace

absl::StatusOr<PhaseResult> RunRawPhase(const RawPhaseOptions& options,
                                        const EventFactory& factory) {
  AckLog log(options.events);
  std::counting_semaphore<> window(options.max_outstanding);
  Deliveries deliveries{.log = &log, .window = &window};
  absl::StatusOr<KafkaHandle> producer = MakeProducer(options, &deliveries);
  if (!producer.ok()) return producer.status();
  rd_kafka_t* rk = producer->get();

  coop::v1::Event probe_event = factory.MakeProbe(0);
  factory.Stamp(probe_event, absl::Now());
  absl::StatusOr<kafka::KafkaRecord> probe = events::EncodeRecord(probe_event);
  if (!probe.ok()) return probe.status();
  if (rd_kafka_resp_err_t err = Produce(rk, options.topic, *probe, kProbeIndex); err != 0) {
    return absl::UnavailableError(absl::StrCat("raw producer probe: ", rd_kafka_err2str(err)));
  }
  rd_kafka_flush(rk, kProbeTimeoutMs);
  if (const int err = deliveries.probe_error.load(); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat(
        "raw producer probe: ", rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err))));
  }

  std::atomic<bool> stopping{false};
  std::thread poller([rk, &stopping] {
    while (!stopping.load(std::memory_order_acquire)) rd_kafka_poll(rk, 50);
  });

  CpuMeter cpu(0, options.broker_pid);
  cpu.Start();
  const int64_t start_ns = NowNanos();
  const double interval_ns = options.rate > 0 ? 1e9 / options.rate : 0;
  for (int64_t i = 0; i < options.events; ++i) {
    int64_t due_ns = 0;
    if (interval_ns > 0) {
      due_ns = start_ns + static_cast<int64_t>(static_cast<double>(i) * interval_ns);
      SleepUntilNanos(due_ns);
    }
    window.acquire();
    // Built per event, as a client would, with the time the publisher would stamp.
    absl::StatusOr<kafka::KafkaRecord> record =
        events::EncodeRecord(factory.MakeStamped(i, absl::Now()));
    log.Sent(i, interval_ns > 0 ? due_ns : NowNanos());
    if (!record.ok()) {
      log.Failed(i, record.status().ToString());
      window.release();
    } else if (rd_kafka_resp_err_t err = Produce(rk, options.topic, *record, i); err != 0) {
      log.Failed(i, rd_kafka_err2str(err));
      window.release();
    }
  }
  log.Wait();
  const int64_t end_ns = NowNanos();
  cpu.Stop();
  stopping.store(true, std::memory_order_release);
  poller.join();
  rd_kafka_flush(rk, kProbeTimeoutMs);

  PhaseResult result;
  result.target_rate = options.rate;
  Summarize(log, cpu, start_ns, end_ns, result);
  return result;
}

}  // namespace coop::bench
