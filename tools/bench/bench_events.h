// The benchmark's events: valid coop.v1.MemorandumSigned envelopes that all have one serialized
// size once the server has stamped them, with unique ids and subjects spread over many keys so
// that every partition of the event log gets its share.
#ifndef COOP_TOOLS_BENCH_BENCH_EVENTS_H_
#define COOP_TOOLS_BENCH_BENCH_EVENTS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "coop/v1/envelope.pb.h"

namespace coop::bench {

// Distinct subjects ("agreement/aNNN"), hence Kafka keys, used round robin.
inline constexpr int kSubjects = 1000;

// Immutable after Create(); Make() may be called from any number of threads.
class EventFactory {
 public:
  // `source` is what the server stamps for the bench principal ("publishers/<id>");
  // `id_prefix` starts every event id (an EventId, at most 100 characters). The summary is
  // padded so that an event with source and recorded_time set serializes to `target_bytes`
  // (give or take the 1..2 bytes the varint of recorded_time's nanos varies by). Fails with
  // INVALID_ARGUMENT when `target_bytes` is below the smallest valid event or when the events
  // would not pass the publisher's validation.
  static absl::StatusOr<EventFactory> Create(std::string source, std::string id_prefix,
                                             size_t target_bytes);

  // Event `index` (>= 0) as a client sends it: no source, no recorded_time.
  coop::v1::Event Make(int64_t index) const;
  // Event `index` as the server stores it: source and recorded_time (in milliseconds) set.
  coop::v1::Event MakeStamped(int64_t index, absl::Time recorded) const;
  // Sets source and recorded_time as the server does.
  void Stamp(coop::v1::Event& event, absl::Time recorded) const;
  // An event with an id no Make() returns, for readiness probes.
  coop::v1::Event MakeProbe(int64_t attempt) const;

  // The serialized size of a stamped event.
  size_t stamped_bytes() const { return stamped_bytes_; }

 private:
  EventFactory(std::string source, std::string id_prefix, coop::v1::Event prototype,
               size_t stamped_bytes)
      : source_(std::move(source)),
        id_prefix_(std::move(id_prefix)),
        prototype_(std::move(prototype)),
        stamped_bytes_(stamped_bytes) {}

  std::string source_;
  std::string id_prefix_;
  coop::v1::Event prototype_;  // Complete but for id and subject.
  size_t stamped_bytes_;
};

}  // namespace coop::bench

#endif  // COOP_TOOLS_BENCH_BENCH_EVENTS_H_
