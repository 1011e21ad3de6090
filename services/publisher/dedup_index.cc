#include "services/publisher/dedup_index.h"

#include <openssl/evp.h>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace coop::publisher {

namespace {

// SHA-256 of the deterministic serialization of `event` as it is.
EventDigest DigestSerialized(const coop::v1::Event& event) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    event.SerializeToCodedStream(&coded);
  }
  EventDigest digest{};
  unsigned int size = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest.data(), &size, EVP_sha256(), nullptr);
  return digest;
}

}  // namespace

EventDigest DigestEvent(const coop::v1::Event& event) {
  coop::v1::Event canonical = event;
  return DigestEventInPlace(&canonical);
}

EventDigest DigestEventInPlace(coop::v1::Event* event) {
  std::string source = std::move(*event->mutable_source());
  event->clear_source();
  google::protobuf::Timestamp* recorded_time = event->release_recorded_time();
  const EventDigest digest = DigestSerialized(*event);
  *event->mutable_source() = std::move(source);
  event->set_allocated_recorded_time(recorded_time);
  return digest;
}

std::string DedupIndex::Key(absl::string_view source, absl::string_view id) {
  // Neither part may contain NUL (source is "publishers/<slug>", ids are [A-Za-z0-9._:-]).
  return absl::StrCat(source, absl::string_view("\0", 1), id);
}

DedupIndex::Claim DedupIndex::TryClaim(absl::string_view source, absl::string_view id,
                                       RecordedEvent* recorded) {
  std::string key = Key(source, id);
  absl::MutexLock lock(&mu_);
  if (auto it = recorded_.find(key); it != recorded_.end()) {
    *recorded = it->second;
    return Claim::kRecorded;
  }
  if (!in_flight_.insert(std::move(key)).second) return Claim::kInFlight;
  return Claim::kClaimed;
}

void DedupIndex::Record(absl::string_view source, absl::string_view id,
                        const RecordedEvent& event) {
  std::string key = Key(source, id);
  absl::MutexLock lock(&mu_);
  in_flight_.erase(key);
  if (recorded_.try_emplace(key, event).second) {
    expiry_.emplace_back(event.recorded_time, std::move(key));
  }
}

void DedupIndex::Release(absl::string_view source, absl::string_view id) {
  absl::MutexLock lock(&mu_);
  in_flight_.erase(Key(source, id));
}

void DedupIndex::Expire(absl::Time now) {
  const absl::Time horizon = now - window_;
  absl::MutexLock lock(&mu_);
  while (!expiry_.empty() && expiry_.front().first < horizon) {
    recorded_.erase(expiry_.front().second);
    expiry_.pop_front();
  }
}

bool DedupIndex::Contains(absl::string_view source, absl::string_view id) const {
  const std::string key = Key(source, id);
  absl::MutexLock lock(&mu_);
  return recorded_.contains(key);
}

size_t DedupIndex::size() const {
  absl::MutexLock lock(&mu_);
  return recorded_.size();
}

}  // namespace coop::publisher
