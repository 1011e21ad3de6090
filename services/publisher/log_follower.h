// Keeps the DedupIndex equal to what the event log holds within the dedup window.
//
// On start it reads the log from (now - window) on every partition up to the end offsets it saw
// when starting, so a restarted publisher remembers what it acknowledged before. Then it follows
// the log, so it also learns of events other publisher instances write. One consumer, one
// thread; records it cannot decode are skipped (they were not written by a publisher).
#ifndef COOP_SERVICES_PUBLISHER_LOG_FOLLOWER_H_
#define COOP_SERVICES_PUBLISHER_LOG_FOLLOWER_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/kafka/consumer.h"
#include "common/kafka/kafka_config.h"
#include "services/publisher/dedup_index.h"

namespace coop::publisher {

class LogFollower {
 public:
  // Returns once the window is loaded. UNAVAILABLE / DEADLINE_EXCEEDED when Kafka does not
  // answer within `timeout`; NOT_FOUND when the topic does not exist.
  static absl::StatusOr<std::unique_ptr<LogFollower>> Start(const kafka::KafkaConfig& config,
                                                            const std::string& topic,
                                                            DedupIndex* index,
                                                            absl::Duration timeout);
  ~LogFollower();
  LogFollower(const LogFollower&) = delete;
  LogFollower& operator=(const LogFollower&) = delete;

  int32_t partitions() const { return partitions_; }

  // Waits until every partition has been read up to `end_offsets` (partition -> offset);
  // false when `deadline` passes first.
  bool AwaitReadUpTo(const std::map<int32_t, int64_t>& end_offsets, absl::Time deadline);

 private:
  LogFollower(std::unique_ptr<kafka::Consumer> consumer, std::string topic, int32_t partitions,
              DedupIndex* index);
  void Run();

  std::unique_ptr<kafka::Consumer> consumer_;  // Used only by the thread after Start.
  const std::string topic_;
  const int32_t partitions_;
  DedupIndex* const index_;
  std::atomic<bool> stopping_{false};

  absl::Mutex mu_;
  // Partition -> offset of the next record to read.
  std::map<int32_t, int64_t> next_offsets_ ABSL_GUARDED_BY(mu_);

  std::thread thread_;  // Last: joined before the members it uses are destroyed.
};

}  // namespace coop::publisher

#endif  // COOP_SERVICES_PUBLISHER_LOG_FOLLOWER_H_
