#include "tools/bench/stream_bench_fanout.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "common/events/record_codec.h"
#include "common/kafka/consumer.h"
#include "common/kafka/producer.h"
#include "common/status_macros.h"
#include "coop/v1/subscriptions.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "tools/bench/measurement.h"
#include "tools/bench/stream_bench_process.h"
#include "tools/bench/view_events.h"

namespace coop::bench {
namespace {

constexpr absl::string_view kIdPrefix = "fanout-";
constexpr int32_t kSlowChannels = 2;
constexpr absl::Duration kConnectTimeout = absl::Seconds(120);
constexpr absl::Duration kShutdownTimeout = absl::Seconds(30);
constexpr absl::Duration kMemorySampleInterval = absl::Milliseconds(250);
// A fast subscriber that has less than this share of its events when publishing ends starves.
constexpr double kStarvedShare = 0.9;

// Selective subscribers take these filters in turn. Each uses one criterion, so that the bench
// can count what each is due without the service's filter code.
struct FilterSpec {
  std::vector<std::string> types;
  std::vector<std::string> subject_prefixes;
};
const std::vector<FilterSpec>& SelectiveFilters() {
  static const auto* filters = new std::vector<FilterSpec>{
      {.types = {"coop.v1.HubMilestone"}},
      {.subject_prefixes = {"agreement/"}},
      {.types = {"coop.v1.RegionProfile", "coop.v1.TourismFlow"}},
      {.subject_prefixes = {"hub/hub-1"}},
  };
  return *filters;
}

bool Matches(const FilterSpec& filter, const coop::v1::Event& event) {
  if (!filter.types.empty()) {
    const absl::string_view type = events::PayloadTypeName(event);
    return std::find(filter.types.begin(), filter.types.end(), type) != filter.types.end();
  }
  for (const std::string& prefix : filter.subject_prefixes) {
    if (absl::StartsWith(event.subject(), prefix)) return true;
  }
  return false;
}

// The event's index from its id "fanout-<n>"; -1 for any other id.
int64_t IndexOf(absl::string_view id) {
  int64_t index = -1;
  if (!absl::ConsumePrefix(&id, kIdPrefix) || !absl::SimpleAtoi(id, &index)) return -1;
  return index;
}

// Latencies counted from any thread, in microseconds with 0.1 % precision (log-linear buckets:
// 1 µs wide below 2,048 µs, then 1,024 buckets per power of two).
class LatencyHistogram {
 public:
  LatencyHistogram() : buckets_(new std::atomic<int64_t>[kBuckets]()) {}

  void Add(int64_t nanos) {
    const auto micros = static_cast<uint64_t>(std::max<int64_t>(nanos, 0) / 1000);
    buckets_[std::min(BucketOf(micros), kBuckets - 1)].fetch_add(1, std::memory_order_relaxed);
    int64_t max = max_.load(std::memory_order_relaxed);
    while (nanos > max && !max_.compare_exchange_weak(max, nanos, std::memory_order_relaxed)) {
    }
  }

  // Each quantile is the upper edge of its bucket, at most the maximum.
  LatencySummary Summary() const {
    LatencySummary summary;
    for (size_t b = 0; b < kBuckets; ++b) summary.count += buckets_[b].load();
    summary.max_ms = static_cast<double>(max_.load()) / 1e6;
    if (summary.count == 0) return summary;
    auto quantile = [&](double q) {
      const auto rank = static_cast<int64_t>(std::ceil(q * static_cast<double>(summary.count)));
      int64_t seen = 0;
      for (size_t b = 0; b < kBuckets; ++b) {
        seen += buckets_[b].load();
        if (seen >= rank) {
          return std::min(static_cast<double>(UpperEdgeMicros(b)) / 1e3, summary.max_ms);
        }
      }
      return summary.max_ms;
    };
    summary.p50_ms = quantile(0.50);
    summary.p99_ms = quantile(0.99);
    return summary;
  }

 private:
  static constexpr uint64_t kSub = 1024;
  static constexpr size_t kBuckets = 2 * kSub + 40 * kSub;

  static size_t BucketOf(uint64_t micros) {
    if (micros < 2 * kSub) return micros;
    const int shift = std::bit_width(micros) - 11;  // micros >> shift lies in [1024, 2047].
    return 2 * kSub + (shift - 1) * kSub + ((micros >> shift) - kSub);
  }
  static uint64_t UpperEdgeMicros(size_t bucket) {
    if (bucket < 2 * kSub) return bucket + 1;
    const uint64_t k = bucket - 2 * kSub;
    const uint64_t shift = k / kSub + 1;
    return (k % kSub + kSub + 1) << shift;
  }

  std::unique_ptr<std::atomic<int64_t>[]> buckets_;
  std::atomic<int64_t> max_{0};
};

// What the subscribers and the plain consumer share with the publishing thread.
struct Shared {
  explicit Shared(size_t events) : sent_ns(events) {}

  // When each event was handed to Produce(); 0 until then.
  std::vector<std::atomic<int64_t>> sent_ns;
  LatencyHistogram fast_latency;
  LatencyHistogram raw_latency;
  std::atomic<int32_t> caught_up{0};
  std::atomic<bool> cancelling{false};

  absl::Mutex mu;
  int32_t done ABSL_GUARDED_BY(mu) = 0;
  std::string first_error ABSL_GUARDED_BY(mu);

  // The latency of event `id` received now, or -1 for an id that was not sent.
  int64_t LatencyOf(absl::string_view id, int64_t now_ns) const {
    const int64_t index = IndexOf(id);
    if (index < 0 || static_cast<size_t>(index) >= sent_ns.size()) return -1;
    const int64_t sent = sent_ns[static_cast<size_t>(index)].load(std::memory_order_acquire);
    return sent == 0 ? -1 : now_ns - sent;
  }
};

class Subscriber;

// Starts the next read of slow subscribers `interval` after the last one ended. One thread.
class SlowReadTimer {
 public:
  explicit SlowReadTimer(absl::Duration interval)
      : interval_ns_(absl::ToInt64Nanoseconds(interval)), thread_([this] { Run(); }) {}
  ~SlowReadTimer() { Stop(); }

  // Schedules `subscriber`'s next read; false once stopped (the caller then reads at once).
  bool Schedule(Subscriber* subscriber) {
    absl::MutexLock lock(&mu_);
    if (stopped_) return false;
    due_.emplace_back(NowNanos() + interval_ns_, subscriber);
    return true;
  }

  // Drops what is scheduled and joins the thread. Subscribers left waiting stay idle, which
  // their hold (Subscriber::Start) makes safe until they are cancelled.
  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      if (stopped_) return;
      stopped_ = true;
    }
    thread_.join();
  }

 private:
  void Run();

  const int64_t interval_ns_;
  absl::Mutex mu_;
  // Due times grow in order: every entry is scheduled `interval_ns_` after its own now.
  std::deque<std::pair<int64_t, Subscriber*>> due_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // Last: starts after the members above exist.
};

// One Subscribe stream. Reads on gRPC's callback threads; owned by SubscriberSet, which
// outlives OnDone.
class Subscriber final : public grpc::ClientReadReactor<coop::v1::SubscribeResponse> {
 public:
  // `timer` is null for fast subscribers.
  Subscriber(Shared& shared, SlowReadTimer* timer, int32_t filter, int32_t events_per_message)
      : shared_(shared), timer_(timer), filter_(filter) {
    request_.set_edge(coop::v1::LOG_EDGE_LATEST);
    if (timer == nullptr) request_.set_max_events_per_message(events_per_message);
    if (filter >= 0) {
      const FilterSpec& spec = SelectiveFilters()[static_cast<size_t>(filter)];
      for (const std::string& type : spec.types) request_.mutable_filter()->add_types(type);
      for (const std::string& prefix : spec.subject_prefixes) {
        request_.mutable_filter()->add_subject_prefixes(prefix);
      }
    }
  }

  void Start(coop::v1::Subscriptions::Stub& stub) {
    stub.async()->Subscribe(&context_, &request_, this);
    // A slow subscriber has no read outstanding while it waits for the timer; the hold keeps
    // gRPC from finishing it (OnDone) until ReleaseHold, so the timer never reads a dead call.
    if (timer_ != nullptr) AddHold();
    StartRead(&response_);
    StartCall();
  }

  void ReadNext() { StartRead(&response_); }
  void Cancel() { context_.TryCancel(); }
  void ReleaseHold() {
    if (timer_ != nullptr) RemoveHold();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // The call is ending; OnDone follows.
    if (response_.has_event()) {
      if (timer_ == nullptr) Arrived(response_.event(), NowNanos());
      delivered_.fetch_add(1, std::memory_order_relaxed);
    } else if (response_.has_events()) {
      const int64_t now = NowNanos();
      for (const coop::v1::StreamedEvent& event : response_.events().events()) Arrived(event, now);
      delivered_.fetch_add(response_.events().events_size(), std::memory_order_relaxed);
    } else if (response_.has_caught_up() && !caught_up_) {
      caught_up_ = true;
      shared_.caught_up.fetch_add(1);
    }
    if (timer_ != nullptr && timer_->Schedule(this)) return;
    StartRead(&response_);
  }

  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&shared_.mu);
    if (!shared_.cancelling.load() && shared_.first_error.empty()) {
      shared_.first_error = absl::StrCat("a subscription ended on its own with ",
                                         status.error_code(), ": ", status.error_message());
    }
    ++shared_.done;
  }

  int64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }
  int32_t filter() const { return filter_; }
  // Counts the latency of a fast subscriber's delivery.
  void Arrived(const coop::v1::StreamedEvent& event, int64_t now_ns) {
    const int64_t latency = shared_.LatencyOf(event.event().id(), now_ns);
    if (latency >= 0) shared_.fast_latency.Add(latency);
  }
  bool slow() const { return timer_ != nullptr; }

 private:
  Shared& shared_;
  SlowReadTimer* const timer_;
  const int32_t filter_;  // Index into SelectiveFilters(); -1: every event.
  grpc::ClientContext context_;
  coop::v1::SubscribeRequest request_;
  coop::v1::SubscribeResponse response_;
  bool caught_up_ = false;  // Only the reading callback touches it.
  std::atomic<int64_t> delivered_{0};
};

void SlowReadTimer::Run() {
  // Stop() is noticed within this.
  constexpr int64_t kMaxSleepNanos = 10'000'000;
  while (true) {
    Subscriber* next = nullptr;
    int64_t wake_ns = NowNanos() + kMaxSleepNanos;
    {
      absl::MutexLock lock(&mu_);
      if (stopped_) return;
      if (!due_.empty() && due_.front().first <= NowNanos()) {
        next = due_.front().second;
        due_.pop_front();
      } else if (!due_.empty()) {
        wake_ns = std::min(wake_ns, due_.front().first);
      }
    }
    if (next != nullptr) {
      next->ReadNext();
    } else {
      SleepUntilNanos(wake_ns);
    }
  }
}

// The channels, the timer and the subscribers. The destructor cancels every stream and waits
// for gRPC to be done with them before anything is freed.
class SubscriberSet {
 public:
  SubscriberSet(const FanoutOptions& options, Shared& shared)
      : shared_(shared), timer_(options.slow_read_interval) {
    auto make_stub = [&] {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // One connection per channel.
      return coop::v1::Subscriptions::NewStub(grpc::CreateCustomChannel(
          options.server_address, grpc::InsecureChannelCredentials(), args));
    };
    for (int32_t c = 0; c < options.channels; ++c) fast_stubs_.push_back(make_stub());
    for (int32_t c = 0; c < kSlowChannels; ++c) slow_stubs_.push_back(make_stub());
    for (int32_t i = 0; i < options.subscribers; ++i) {
      const bool selective = i < options.selective;
      const bool slow = !selective && i < options.selective + options.slow;
      const auto filter = selective ? static_cast<int32_t>(i % SelectiveFilters().size()) : -1;
      subscribers_.push_back(std::make_unique<Subscriber>(shared, slow ? &timer_ : nullptr, filter,
                                                          options.events_per_message));
    }
  }

  ~SubscriberSet() { Shutdown(); }

  void StartAll() {
    size_t fast = 0;
    size_t slow = 0;
    for (const std::unique_ptr<Subscriber>& subscriber : subscribers_) {
      if (subscriber->slow()) {
        subscriber->Start(*slow_stubs_[slow++ % slow_stubs_.size()]);
      } else {
        subscriber->Start(*fast_stubs_[fast++ % fast_stubs_.size()]);
      }
      ++started_;
    }
  }

  const std::vector<std::unique_ptr<Subscriber>>& subscribers() const { return subscribers_; }

  void Shutdown() {
    if (shut_down_) return;
    shut_down_ = true;
    timer_.Stop();
    shared_.cancelling = true;
    for (size_t i = 0; i < started_; ++i) subscribers_[i]->Cancel();
    for (size_t i = 0; i < started_; ++i) subscribers_[i]->ReleaseHold();
    absl::MutexLock lock(&shared_.mu);
    const auto expected = static_cast<int32_t>(started_);
    auto all_done = [&]()
                        ABSL_SHARED_LOCKS_REQUIRED(shared_.mu) { return shared_.done == expected; };
    // gRPC calls OnDone for every cancelled stream; waiting longer only hides a hang.
    if (!shared_.mu.AwaitWithTimeout(absl::Condition(&all_done), kShutdownTimeout)) {
      std::fprintf(stderr, "coop-stream-bench: %d of %d subscriptions not done after cancel\n",
                   expected - shared_.done, expected);
      std::abort();
    }
  }

 private:
  Shared& shared_;
  SlowReadTimer timer_;
  std::vector<std::unique_ptr<coop::v1::Subscriptions::Stub>> fast_stubs_;
  std::vector<std::unique_ptr<coop::v1::Subscriptions::Stub>> slow_stubs_;
  std::vector<std::unique_ptr<Subscriber>> subscribers_;
  size_t started_ = 0;
  bool shut_down_ = false;
};

// A plain Kafka consumer on the topic with the settings coop-stream's log tail uses
// (read_committed, 8 MiB prefetch), assigned at the end offsets before publishing starts.
class RawReader {
 public:
  static absl::StatusOr<std::unique_ptr<RawReader>> Start(const FanoutOptions& options,
                                                          Shared& shared) {
    kafka::KafkaConfig kafka = options.kafka;
    kafka.properties.try_emplace("queued.max.messages.kbytes", "8192");
    kafka::ConsumerOptions consumer_options;
    consumer_options.read_committed = true;
    COOP_ASSIGN_OR_RETURN(std::unique_ptr<kafka::Consumer> consumer,
                          kafka::Consumer::Create(kafka, consumer_options));
    COOP_ASSIGN_OR_RETURN(const int32_t partitions,
                          consumer->PartitionCount(options.topic, absl::Seconds(30)));
    COOP_ASSIGN_OR_RETURN(const auto ends,
                          consumer->EndOffsets(options.topic, partitions, absl::Seconds(30)));
    COOP_RETURN_IF_ERROR(consumer->AssignAll(options.topic, ends));
    return std::unique_ptr<RawReader>(new RawReader(std::move(consumer), shared));
  }

  ~RawReader() {
    stop_ = true;
    thread_.join();
  }

  int64_t records() const { return records_.load(); }

 private:
  RawReader(std::unique_ptr<kafka::Consumer> consumer, Shared& shared)
      : consumer_(std::move(consumer)), shared_(shared), thread_([this] { Run(); }) {}

  void Run() {
    kafka::ConsumedRecord consumed;
    while (!stop_.load()) {
      // Broker trouble comes back as errors that librdkafka recovers from by itself; a lost
      // record shows as a count short of the published one.
      absl::StatusOr<bool> got = consumer_->PollInto(absl::Milliseconds(100), consumed);
      if (!got.ok() || !*got || consumed.end_of_partition) continue;
      const int64_t now = NowNanos();
      if (std::optional<absl::string_view> id = events::FindHeader(consumed.record, "ce_id")) {
        const int64_t latency = shared_.LatencyOf(*id, now);
        if (latency >= 0) shared_.raw_latency.Add(latency);
      }
      records_.fetch_add(1);
    }
  }

  std::unique_ptr<kafka::Consumer> consumer_;
  Shared& shared_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> records_{0};
  std::thread thread_;  // Last: starts after the members above exist.
};

// Samples the server's VmRSS until destroyed.
class MemorySampler {
 public:
  explicit MemorySampler(pid_t pid) : pid_(pid), thread_([this] { Run(); }) {}
  ~MemorySampler() {
    stop_ = true;
    thread_.join();
  }
  int64_t max_rss_bytes() const { return max_rss_.load(); }

 private:
  void Run() {
    while (!stop_.load()) {
      if (absl::StatusOr<ProcessMemory> memory = ReadProcessMemory(pid_); memory.ok()) {
        max_rss_ = std::max(max_rss_.load(), memory->rss_bytes);
      }
      absl::SleepFor(kMemorySampleInterval);
    }
  }

  const pid_t pid_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> max_rss_{0};
  std::thread thread_;  // Last.
};

}  // namespace

absl::StatusOr<FanoutResult> RunFanout(const FanoutOptions& options, std::ostream& progress) {
  const auto count =
      static_cast<int64_t>(std::llround(options.rate * absl::ToDoubleSeconds(options.duration)));
  std::vector<coop::v1::Event> events = GenerateViewEvents(
      {.count = count, .seed = 7, .duplicate_percent = 0, .correction_percent = 1});
  for (int64_t i = 0; i < count; ++i) {
    events[static_cast<size_t>(i)].set_id(absl::StrCat(kIdPrefix, i));
  }
  std::vector<int64_t> filter_expected(SelectiveFilters().size(), 0);
  for (size_t f = 0; f < SelectiveFilters().size(); ++f) {
    for (const coop::v1::Event& event : events) {
      filter_expected[f] += Matches(SelectiveFilters()[f], event);
    }
  }
  auto expected_for = [&](const Subscriber& subscriber) {
    return subscriber.filter() < 0 ? count
                                   : filter_expected[static_cast<size_t>(subscriber.filter())];
  };

  FanoutResult result;
  Shared shared(static_cast<size_t>(count));
  SubscriberSet set(options, shared);
  const int64_t connect_start = NowNanos();
  set.StartAll();
  const int64_t connect_deadline = connect_start + absl::ToInt64Nanoseconds(kConnectTimeout);
  while (shared.caught_up.load() < options.subscribers) {
    {
      absl::MutexLock lock(&shared.mu);
      if (!shared.first_error.empty()) {
        return absl::UnavailableError(
            absl::StrCat("fan-out: while connecting, ", shared.first_error));
      }
    }
    if (NowNanos() > connect_deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("fan-out: ", shared.caught_up.load(), " of ", options.subscribers,
                       " subscriptions caught up after ", absl::FormatDuration(kConnectTimeout)));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  result.connect_seconds = static_cast<double>(NowNanos() - connect_start) / 1e9;
  progress << absl::StrFormat(
      "  fan-out: %d subscriptions live after %.1f s; publishing %d events at %.0f/s\n",
      options.subscribers, result.connect_seconds, count, options.rate);

  COOP_ASSIGN_OR_RETURN(std::unique_ptr<RawReader> raw, RawReader::Start(options, shared));
  // Declared before the producer: its destructor may still run delivery callbacks.
  std::atomic<int64_t> answered{0};
  absl::Mutex produce_mu;
  absl::Status produce_error;  // Guarded by produce_mu.
  COOP_ASSIGN_OR_RETURN(std::unique_ptr<kafka::Producer> producer,
                        kafka::Producer::Create(options.kafka));
  auto sampler = std::make_unique<MemorySampler>(options.server_pid);
  CpuMeter cpu(options.server_pid, options.broker_pid);
  cpu.Start();

  const int64_t start_ns = NowNanos();
  const double interval_ns = 1e9 / options.rate;
  for (int64_t i = 0; i < count; ++i) {
    SleepUntilNanos(start_ns + static_cast<int64_t>(static_cast<double>(i) * interval_ns));
    coop::v1::Event& event = events[static_cast<size_t>(i)];
    const int64_t now_ms = absl::ToUnixMillis(absl::Now());
    event.mutable_recorded_time()->set_seconds(now_ms / 1000);
    event.mutable_recorded_time()->set_nanos(static_cast<int32_t>(now_ms % 1000) * 1'000'000);
    COOP_ASSIGN_OR_RETURN(const kafka::KafkaRecord record, events::EncodeRecord(event));
    shared.sent_ns[static_cast<size_t>(i)].store(NowNanos(), std::memory_order_release);
    absl::Status queued;
    do {
      queued =
          producer->Produce(options.topic, record, [&](absl::StatusOr<kafka::RecordPosition> done) {
            if (!done.ok()) {
              absl::MutexLock lock(&produce_mu);
              if (produce_error.ok()) produce_error = done.status();
            }
            answered.fetch_add(1);
          });
      if (absl::IsResourceExhausted(queued)) absl::SleepFor(absl::Milliseconds(1));
    } while (absl::IsResourceExhausted(queued));
    COOP_RETURN_IF_ERROR(queued);
  }
  const int64_t window_end_ns = NowNanos();
  result.published = count;
  result.publish_seconds = static_cast<double>(window_end_ns - start_ns) / 1e9;

  // Fast subscribers' counts at the end of the window, then after the drain.
  std::vector<int64_t> at_window_end;
  for (const std::unique_ptr<Subscriber>& subscriber : set.subscribers()) {
    at_window_end.push_back(subscriber->delivered());
    result.delivered_in_window += at_window_end.back();
    if (!subscriber->slow()) result.fast_delivered_in_window += at_window_end.back();
  }
  const int64_t drain_deadline = window_end_ns + absl::ToInt64Nanoseconds(options.drain);
  auto fast_complete = [&] {
    for (const std::unique_ptr<Subscriber>& subscriber : set.subscribers()) {
      if (!subscriber->slow() && subscriber->delivered() < expected_for(*subscriber)) return false;
    }
    return raw->records() >= count;
  };
  while (!fast_complete() && NowNanos() < drain_deadline) absl::SleepFor(absl::Milliseconds(20));
  result.drain_seconds = static_cast<double>(NowNanos() - window_end_ns) / 1e9;
  cpu.Stop();
  result.server_cpu_seconds = cpu.server_seconds();
  result.client_cpu_seconds = cpu.client_seconds();
  result.broker_cpu_seconds = cpu.broker_seconds();
  result.rss_max_bytes = sampler->max_rss_bytes();
  sampler.reset();
  if (absl::StatusOr<ProcessMemory> memory = ReadProcessMemory(options.server_pid); memory.ok()) {
    result.hwm_bytes = memory->hwm_bytes;
    result.rss_max_bytes = std::max(result.rss_max_bytes, memory->rss_bytes);
  }

  result.fast_min_share_at_window_end = 1;
  result.fast_min_share_after_drain = 1;
  int32_t over_delivered = 0;
  for (size_t s = 0; s < set.subscribers().size(); ++s) {
    const Subscriber& subscriber = *set.subscribers()[s];
    const int64_t delivered = subscriber.delivered();
    if (subscriber.slow()) {
      result.slow_delivered += delivered;
      continue;
    }
    const int64_t expected = expected_for(subscriber);
    ++result.fast_subscribers;
    result.fast_expected += expected;
    result.fast_delivered += delivered;
    over_delivered += delivered > expected;
    if (expected == 0) continue;
    const double at_end = static_cast<double>(at_window_end[s]) / static_cast<double>(expected);
    const double after = static_cast<double>(delivered) / static_cast<double>(expected);
    result.fast_min_share_at_window_end = std::min(result.fast_min_share_at_window_end, at_end);
    result.fast_min_share_after_drain = std::min(result.fast_min_share_after_drain, after);
    result.starved += at_end < kStarvedShare || delivered < expected;
  }
  result.stream_latency = shared.fast_latency.Summary();
  result.raw_latency = shared.raw_latency.Summary();
  const int64_t raw_records = raw->records();
  raw.reset();
  {
    absl::MutexLock lock(&shared.mu);
    if (!shared.first_error.empty()) return absl::UnavailableError(shared.first_error);
  }
  set.Shutdown();
  while (answered.load() < count) absl::SleepFor(absl::Milliseconds(1));
  {
    absl::MutexLock lock(&produce_mu);
    COOP_RETURN_IF_ERROR(produce_error);
  }
  if (over_delivered > 0) {
    return absl::InternalError(absl::StrCat(over_delivered,
                                            " fast subscribers received more events than match "
                                            "their filter (duplicates)"));
  }
  if (raw_records != count) {
    return absl::InternalError(absl::StrCat("the plain consumer read ", raw_records, " of ", count,
                                            " records within the drain time"));
  }
  return result;
}

}  // namespace coop::bench
