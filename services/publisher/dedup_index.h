// Which (source, id) pairs the event log already holds, so that a client's retry is answered
// with the original position instead of being written again.
//
// The index holds every event recorded within the dedup window (by recorded time). It is filled
// from the event log itself (LogFollower reads the window on start and then follows the log, so
// it also learns of events that other publisher instances wrote) and from this instance's own
// acknowledgements. Memory: about 100 bytes per event in the window.
//
// Thread-safe.
#ifndef COOP_SERVICES_PUBLISHER_DEDUP_INDEX_H_
#define COOP_SERVICES_PUBLISHER_DEDUP_INDEX_H_

#include <array>
#include <cstdint>
#include <deque>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "coop/v1/envelope.pb.h"

namespace coop::publisher {

// SHA-256 of the event with source and recorded_time cleared (deterministic serialization), as
// publisher.proto defines it: equal digests mean "the same event".
using EventDigest = std::array<uint8_t, 32>;
EventDigest DigestEvent(const coop::v1::Event& event);
// The same without copying the event: clears source and recorded_time of `*event` for the
// digest and puts them back.
EventDigest DigestEventInPlace(coop::v1::Event* event);

struct RecordedEvent {
  EventDigest digest{};
  int32_t partition = -1;
  int64_t offset = -1;
  absl::Time recorded_time;
};

class DedupIndex {
 public:
  explicit DedupIndex(absl::Duration window) : window_(window) {}

  enum class Claim {
    kClaimed,   // Not recorded and not in flight: the caller publishes it and then calls
                // Record() or Release().
    kInFlight,  // Another call is publishing the same (source, id) right now.
    kRecorded,  // Already in the log: `*recorded` is filled.
  };
  Claim TryClaim(absl::string_view source, absl::string_view id, RecordedEvent* recorded);

  // The claimed event is in the log (also called by the log follower for every record it reads,
  // claimed or not). Keeps the first position seen for a (source, id).
  void Record(absl::string_view source, absl::string_view id, const RecordedEvent& event);
  // The claimed event was not written (or its outcome is unknown): the next try may claim it.
  void Release(absl::string_view source, absl::string_view id);

  // Whether (source, id) is recorded (not merely in flight).
  bool Contains(absl::string_view source, absl::string_view id) const;

  // Forgets events recorded before now - window.
  void Expire(absl::Time now);

  size_t size() const;
  absl::Duration window() const { return window_; }

 private:
  static std::string Key(absl::string_view source, absl::string_view id);

  const absl::Duration window_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, RecordedEvent> recorded_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> in_flight_ ABSL_GUARDED_BY(mu_);
  // Keys in the order they were recorded, for expiry. Recorded times are nearly ordered (the
  // log is read partition by partition); an entry expires when it reaches the front and is old.
  std::deque<std::pair<absl::Time, std::string>> expiry_ ABSL_GUARDED_BY(mu_);
};

}  // namespace coop::publisher

#endif  // COOP_SERVICES_PUBLISHER_DEDUP_INDEX_H_
