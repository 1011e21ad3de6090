// The views of one coop-views process: the serving generation and its consumer, rebuilds into a
// new generation, as-of stores, and reads that wait for a read-your-writes bound.
//
// Storage. SQLite (default): a directory with catalog.db (the generations and their states) and
// one database file per generation, views-g{N}.db. PostgreSQL: schema coop_views holds the
// catalog and, for analysts, one SQL view per table pointing at the serving generation
// (coop_views.agreements, ...); each generation has its own schema coop_views_g{N}. Several
// processes may share one PostgreSQL store: their consumers of a generation form the Kafka
// consumer group {group_prefix}-g{N}; each process follows the catalog and moves to a new
// serving generation within a few seconds of the switch.
//
// Rebuild. A new generation reads the log from the start beside the serving one, first to the
// end offsets of when it started, then to the end offsets of that moment; then, in one catalog
// transaction, it becomes SERVING and the old one RETIRED (on PostgreSQL the analysts' views are
// repointed in the same transaction), queries move to it and the old storage is dropped. The
// new generation's consumer goes on as the live one.
//
// As of. A query with as_of T is answered from a store built from the start of the log with the
// records recorded at or before T (a temporary SQLite database). Stores for instants older than
// the settle delay are complete and cached (a few, least recently used first out).
#ifndef COOP_CONSUMERS_VIEWS_VIEWS_ENGINE_H_
#define COOP_CONSUMERS_VIEWS_VIEWS_ENGINE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "consumers/views/view_consumer.h"
#include "consumers/views/view_source.h"

namespace coop::views {

struct ViewsEngineOptions {
  // The SQLite directory (used when postgres_url is empty), created if missing.
  std::string sqlite_dir = ".data/views";
  // A libpq connection string or postgresql:// URL: the shared store.
  std::string postgres_url;
  // Kafka, topics and batching; group_id is set by the engine.
  ViewConsumerOptions consumer;
  // Consumer groups are named {group_prefix}-g{generation} (PostgreSQL only).
  std::string group_prefix = "coop-views";
  // Read connections per generation (concurrent queries beyond wait for one).
  int read_connections = 4;
  // As-of answers for instants older than this are final and cached.
  absl::Duration settle_delay = absl::Seconds(60);
  // Where as-of stores are built; empty: the SQLite directory, or the system temp directory.
  std::string as_of_dir;
  int as_of_cache_entries = 4;
  // How often a process looks for a serving generation switched by another process.
  absl::Duration catalog_poll_interval = absl::Seconds(2);
};

class ViewsEngine : public ViewSource {
 public:
  // Opens the store, finds (or creates) the serving generation and starts its consumer.
  static absl::StatusOr<std::unique_ptr<ViewsEngine>> Start(ViewsEngineOptions options);
  // Stops every consumer (a batch in hand is committed first) and closes the store.
  ~ViewsEngine() override;

  const cursor::LogId& log() const override;
  absl::Status Read(absl::string_view min_position, absl::Time deadline,
                    std::optional<absl::Time> as_of, const ReadFn& read) override;
  absl::StatusOr<coop::v1::RebuildStatus> StartRebuild() override;
  absl::StatusOr<coop::v1::RebuildStatus> GetRebuild(int64_t generation) override;

  // The serving generation's number and consumer counters (metrics, tests).
  int64_t serving_generation() const;
  // Counters of the serving generation's consumer (dead_lettered, applied, ...).
  const ViewConsumerStats& serving_stats() const;
  // OK while the serving consumer runs; its error once it has stopped on one.
  absl::Status health() const;

 private:
  struct Impl;
  explicit ViewsEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace coop::views

#endif  // COOP_CONSUMERS_VIEWS_VIEWS_ENGINE_H_
