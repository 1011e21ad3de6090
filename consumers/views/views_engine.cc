#include "consumers/views/views_engine.h"

#include <atomic>
#include <filesystem>
#include <functional>
#include <list>
#include <map>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/kafka/topic_admin.h"
#include "common/status_macros.h"
#include "consumers/views/schema.h"
#include "spdlog/spdlog.h"

namespace coop::views {
namespace {

using sql::Value;
using Positions = std::map<int32_t, int64_t>;

constexpr absl::Duration kWaitPollInterval = absl::Milliseconds(20);

// Tables of a generation that analysts see through the coop_views schema on PostgreSQL.
constexpr const char* kPublishedTables[] = {
    "agreements", "hubs",    "facets",        "trade_rows", "region_facts", "sites",
    "incentives", "regions", "tourism_flows", "events",     "positions",    "hub_milestones",
};

// A bounded set of connections to one database, opened on demand.
class ConnectionPool {
 public:
  using Factory = std::function<absl::StatusOr<std::unique_ptr<sql::Connection>>()>;
  ConnectionPool(Factory factory, int size) : factory_(std::move(factory)), available_(size) {}

  absl::StatusOr<std::unique_ptr<sql::Connection>> Acquire(absl::Time deadline) {
    std::unique_ptr<sql::Connection> connection;
    {
      absl::MutexLock lock(&mu_);
      auto has_one = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return available_ > 0; };
      if (!mu_.AwaitWithDeadline(absl::Condition(&has_one), deadline)) {
        return absl::DeadlineExceededError("no read connection became free before the deadline");
      }
      --available_;
      if (!idle_.empty()) {
        connection = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (connection != nullptr) return connection;
    absl::StatusOr<std::unique_ptr<sql::Connection>> opened = factory_();
    if (!opened.ok()) {
      absl::MutexLock lock(&mu_);
      ++available_;
    }
    return opened;
  }

  // Gives a connection back; one that failed with UNAVAILABLE is closed instead.
  void Release(std::unique_ptr<sql::Connection> connection, bool healthy) {
    absl::MutexLock lock(&mu_);
    ++available_;
    if (healthy) idle_.push_back(std::move(connection));
  }

 private:
  Factory factory_;
  absl::Mutex mu_;
  int available_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<sql::Connection>> idle_ ABSL_GUARDED_BY(mu_);
};

// Where generations and the catalog live.
class Store {
 public:
  virtual ~Store() = default;
  virtual absl::StatusOr<std::unique_ptr<sql::Connection>> OpenCatalog() = 0;
  virtual absl::StatusOr<std::unique_ptr<sql::Connection>> OpenGeneration(int64_t n) = 0;
  virtual absl::Status DropGeneration(sql::Connection& catalog, int64_t n) = 0;
  // Inside the catalog transaction that makes `n` serving.
  virtual absl::Status Publish(sql::Connection& catalog, int64_t n) = 0;
  virtual std::string DescribeGeneration(int64_t n) const = 0;
};

class SqliteStore : public Store {
 public:
  explicit SqliteStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
  absl::StatusOr<std::unique_ptr<sql::Connection>> OpenCatalog() override {
    return sql::OpenSqlite((dir_ / "catalog.db").string());
  }
  absl::StatusOr<std::unique_ptr<sql::Connection>> OpenGeneration(int64_t n) override {
    return sql::OpenSqlite(Path(n).string());
  }
  absl::Status DropGeneration(sql::Connection&, int64_t n) override {
    std::error_code error;
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(Path(n).string() + suffix, error);
    }
    return absl::OkStatus();
  }
  absl::Status Publish(sql::Connection&, int64_t) override { return absl::OkStatus(); }
  std::string DescribeGeneration(int64_t n) const override { return Path(n).string(); }

 private:
  std::filesystem::path Path(int64_t n) const { return dir_ / absl::StrCat("views-g", n, ".db"); }
  std::filesystem::path dir_;
};

class PostgresStore : public Store {
 public:
  explicit PostgresStore(std::string url) : url_(std::move(url)) {}
  absl::StatusOr<std::unique_ptr<sql::Connection>> OpenCatalog() override {
    return sql::OpenPostgres(url_, "coop_views");
  }
  absl::StatusOr<std::unique_ptr<sql::Connection>> OpenGeneration(int64_t n) override {
    return sql::OpenPostgres(url_, Schema(n));
  }
  absl::Status DropGeneration(sql::Connection& catalog, int64_t n) override {
    return catalog.ExecuteScript(absl::StrCat("DROP SCHEMA IF EXISTS ", Schema(n), " CASCADE"));
  }
  absl::Status Publish(sql::Connection& catalog, int64_t n) override {
    std::string script;
    for (const char* table : kPublishedTables) {
      absl::StrAppend(&script, "DROP VIEW IF EXISTS coop_views.", table,
                      "; CREATE VIEW coop_views.", table, " AS SELECT * FROM ", Schema(n), ".",
                      table, ";");
    }
    return catalog.ExecuteScript(script);
  }
  std::string DescribeGeneration(int64_t n) const override {
    return absl::StrCat("schema ", Schema(n));
  }

 private:
  static std::string Schema(int64_t n) { return absl::StrCat("coop_views_g", n); }
  std::string url_;
};

// One generation this process consumes into.
struct Generation {
  int64_t number = 0;
  std::unique_ptr<ViewConsumer> consumer;
  std::shared_ptr<ConnectionPool> readers;
  std::thread thread;
  std::atomic<bool> stop{false};
  absl::Mutex mu;
  absl::Status result ABSL_GUARDED_BY(mu);
  bool finished ABSL_GUARDED_BY(mu) = false;

  void Finish(absl::Status status) {
    absl::MutexLock lock(&mu);
    result = std::move(status);
    finished = true;
  }
  void StopAndJoin() {
    stop = true;
    if (thread.joinable() && thread.get_id() != std::this_thread::get_id()) thread.join();
  }
};

// A store built for one as-of instant; its file goes when the last reader lets go.
struct AsOfStore {
  std::string path;
  std::shared_ptr<ConnectionPool> readers;
  ~AsOfStore() {
    readers.reset();
    std::error_code error;
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(path + suffix, error);
    }
  }
};

int64_t Sum(const Positions& positions) {
  int64_t total = 0;
  for (const auto& [p, offset] : positions) total += offset;
  return total;
}

absl::StatusOr<Positions> ReadPositions(sql::Connection& connection) {
  COOP_ASSIGN_OR_RETURN(std::vector<sql::Row> rows,
                        connection.Query("SELECT kafka_partition, next_offset FROM positions"));
  Positions positions;
  for (const sql::Row& row : rows) {
    positions[static_cast<int32_t>(sql::AsInt(row[0]))] = sql::AsInt(row[1]);
  }
  return positions;
}

google::protobuf::Timestamp ToTimestamp(int64_t ms) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(ms / 1000);
  ts.set_nanos(static_cast<int32_t>(ms % 1000) * 1'000'000);
  return ts;
}

}  // namespace

struct ViewsEngine::Impl {
  ViewsEngineOptions options;
  std::unique_ptr<Store> store;
  cursor::LogId log;
  bool shared_store = false;  // PostgreSQL: other processes may switch generations.

  absl::Mutex catalog_mu;
  std::unique_ptr<sql::Connection> catalog ABSL_GUARDED_BY(catalog_mu);

  absl::Mutex mu;
  std::shared_ptr<Generation> serving ABSL_GUARDED_BY(mu);
  std::shared_ptr<Generation> rebuilding ABSL_GUARDED_BY(mu);
  std::vector<std::thread> retired_threads ABSL_GUARDED_BY(mu);

  absl::Mutex commit_mu;
  absl::CondVar commit_cv;

  absl::Mutex as_of_mu;
  std::list<std::pair<int64_t, std::shared_ptr<AsOfStore>>> as_of_cache ABSL_GUARDED_BY(as_of_mu);
  std::atomic<int64_t> as_of_counter{0};

  std::atomic<bool> stopping{false};
  std::thread monitor;

  absl::StatusOr<std::shared_ptr<Generation>> OpenGeneration(int64_t n, bool rebuild) {
    auto generation = std::make_shared<Generation>();
    generation->number = n;
    COOP_ASSIGN_OR_RETURN(std::unique_ptr<sql::Connection> connection, store->OpenGeneration(n));
    ViewConsumerOptions consumer_options = options.consumer;
    consumer_options.group_id =
        shared_store ? absl::StrCat(options.group_prefix, "-g", n) : std::string();
    consumer_options.write_dead_letters = !rebuild;
    COOP_ASSIGN_OR_RETURN(
        generation->consumer,
        ViewConsumer::Create(consumer_options, std::move(connection), log.cluster_id));
    generation->consumer->set_commit_callback([this](const Positions&) {
      absl::MutexLock lock(&commit_mu);
      commit_cv.SignalAll();
    });
    Store* s = store.get();
    generation->readers = std::make_shared<ConnectionPool>(
        [s, n]() { return s->OpenGeneration(n); }, options.read_connections);
    return generation;
  }

  void RunServing(const std::shared_ptr<Generation>& generation) {
    Generation* g = generation.get();
    g->thread = std::thread([g] {
      absl::Status status = g->consumer->Run(g->stop);
      if (!status.ok()) {
        spdlog::error("views: the consumer of generation {} stopped: {}", g->number,
                      status.ToString());
      }
      g->Finish(status);
    });
  }

  absl::Status UpdateCatalog(const std::string& statement, std::vector<Value> params) {
    absl::MutexLock lock(&catalog_mu);
    return catalog->Execute(statement, params).status();
  }

  int64_t AppliedCount(Generation& g) {
    absl::StatusOr<std::unique_ptr<sql::Connection>> connection =
        g.readers->Acquire(absl::Now() + absl::Seconds(10));
    if (!connection.ok()) return 0;
    absl::StatusOr<Positions> positions = ReadPositions(**connection);
    g.readers->Release(*std::move(connection), positions.ok());
    return positions.ok() ? Sum(*positions) : 0;
  }

  // Makes `next` the serving generation: catalog first (one transaction), then queries, then
  // the old generation stops and its storage goes.
  absl::Status Switch(const std::shared_ptr<Generation>& next) {
    std::shared_ptr<Generation> old;
    {
      absl::MutexLock lock(&mu);
      old = serving;
    }
    const int64_t now_ms = absl::ToUnixMillis(absl::Now());
    const int64_t old_applied = old ? AppliedCount(*old) : 0;
    const int64_t new_applied = AppliedCount(*next);
    {
      absl::MutexLock lock(&catalog_mu);
      COOP_RETURN_IF_ERROR(catalog->Begin(sql::Connection::TxMode::kWrite));
      absl::Status status =
          catalog
              ->Execute(
                  "UPDATE generations SET state = $1, end_time_ms = $2, applied_count = $3 "
                  "WHERE state = $4",
                  {Value(int64_t{coop::v1::REBUILD_STATE_RETIRED}), Value(now_ms),
                   Value(old_applied), Value(int64_t{coop::v1::REBUILD_STATE_SERVING})})
              .status();
      if (status.ok()) {
        status = catalog
                     ->Execute(
                         "UPDATE generations SET state = $1, end_time_ms = $2, "
                         "applied_count = $3 WHERE generation = $4",
                         {Value(int64_t{coop::v1::REBUILD_STATE_SERVING}), Value(now_ms),
                          Value(new_applied), Value(next->number)})
                     .status();
      }
      if (status.ok()) status = store->Publish(*catalog, next->number);
      if (status.ok()) status = catalog->Commit();
      if (!status.ok()) {
        catalog->Rollback();
        return status;
      }
      // Still under catalog_mu: nobody reads the catalog's new state before queries move.
      absl::MutexLock serving_lock(&mu);
      serving = next;
      if (rebuilding == next) rebuilding.reset();
    }
    spdlog::info("views: generation {} is serving ({})", next->number,
                 store->DescribeGeneration(next->number));
    if (old != nullptr) Retire(std::move(old), /*drop_storage=*/true);
    return absl::OkStatus();
  }

  // Stops a generation that no longer serves and, once no query holds it, drops its storage.
  void Retire(std::shared_ptr<Generation> old, bool drop_storage) {
    std::thread cleanup([this, old = std::move(old), drop_storage]() mutable {
      old->StopAndJoin();
      const int64_t n = old->number;
      std::weak_ptr<Generation> watch = old;
      old.reset();
      while (!watch.expired()) absl::SleepFor(absl::Milliseconds(50));
      if (!drop_storage) return;
      if (shared_store) {
        // Other processes read the old generation until they follow the switch.
        const absl::Time until = absl::Now() + 3 * options.catalog_poll_interval;
        while (absl::Now() < until && !stopping) absl::SleepFor(absl::Milliseconds(100));
      }
      absl::MutexLock lock(&catalog_mu);
      absl::Status status = store->DropGeneration(*catalog, n);
      if (!status.ok()) {
        spdlog::warn("views: dropping retired generation {}: {}", n, status.ToString());
      }
    });
    absl::MutexLock lock(&mu);
    retired_threads.push_back(std::move(cleanup));
  }

  void FailRebuild(const std::shared_ptr<Generation>& g, const absl::Status& status) {
    spdlog::error("views: rebuild of generation {} failed: {}", g->number, status.ToString());
    (void)UpdateCatalog(
        "UPDATE generations SET state = $1, end_time_ms = $2, error_message = $3 WHERE "
        "generation = $4",
        {Value(int64_t{coop::v1::REBUILD_STATE_FAILED}), Value(absl::ToUnixMillis(absl::Now())),
         Value(std::string(status.ToString())), Value(g->number)});
    {
      absl::MutexLock lock(&mu);
      if (rebuilding == g) rebuilding.reset();
    }
    Retire(g, /*drop_storage=*/true);
  }

  void RunRebuild(const std::shared_ptr<Generation>& generation) {
    std::weak_ptr<Generation> weak = generation;
    Generation* g = generation.get();
    g->thread = std::thread([this, weak, g] {
      // Catch up to the end of the log when the rebuild started, then to the end of that
      // moment (closer to live), then switch.
      absl::Status status;
      for (int pass = 0; pass < 2 && status.ok() && !g->stop; ++pass) {
        absl::StatusOr<Positions> ends = g->consumer->EndOffsets();
        status = ends.ok() ? g->consumer->Run(g->stop, *ends) : ends.status();
      }
      std::shared_ptr<Generation> self = weak.lock();
      if (self == nullptr) return;
      if (status.ok() && g->stop) status = absl::CancelledError("coop-views stopped");
      if (status.ok()) status = Switch(self);
      if (!status.ok()) {
        g->Finish(status);
        if (!stopping) FailRebuild(self, status);
        return;
      }
      self.reset();
      // Live now: records that cannot be applied go to the dead-letter topic again.
      g->consumer->set_write_dead_letters(true);
      status = g->consumer->Run(g->stop);
      if (!status.ok()) {
        spdlog::error("views: the consumer of generation {} stopped: {}", g->number,
                      status.ToString());
      }
      g->Finish(status);
    });
  }

  // PostgreSQL: follow a serving generation switched by another process.
  void Follow() {
    while (!stopping) {
      absl::SleepFor(options.catalog_poll_interval);
      if (stopping) break;
      absl::StatusOr<std::vector<sql::Row>> rows;
      {
        absl::MutexLock lock(&catalog_mu);
        rows = catalog->Query("SELECT generation FROM generations WHERE state = $1",
                              {Value(int64_t{coop::v1::REBUILD_STATE_SERVING})});
      }
      if (!rows.ok() || rows->empty()) continue;
      const int64_t n = sql::AsInt((*rows)[0][0]);
      std::shared_ptr<Generation> current;
      {
        absl::MutexLock lock(&mu);
        current = serving;
        if ((current != nullptr && current->number == n) ||
            (rebuilding != nullptr && rebuilding->number == n)) {
          continue;
        }
      }
      absl::StatusOr<std::shared_ptr<Generation>> next = OpenGeneration(n, /*rebuild=*/false);
      if (!next.ok()) {
        spdlog::warn("views: cannot follow generation {}: {}", n, next.status().ToString());
        continue;
      }
      RunServing(*next);
      {
        absl::MutexLock lock(&mu);
        serving = *next;
      }
      spdlog::info("views: following generation {}, switched by another process", n);
      if (current != nullptr) Retire(std::move(current), /*drop_storage=*/false);
    }
  }

  absl::Status WaitFor(const std::shared_ptr<Generation>& g, const cursor::Cursor& bound,
                       absl::Time deadline) {
    while (true) {
      COOP_ASSIGN_OR_RETURN(std::unique_ptr<sql::Connection> connection,
                            g->readers->Acquire(deadline));
      absl::StatusOr<Positions> positions = ReadPositions(*connection);
      g->readers->Release(std::move(connection), positions.ok());
      if (!positions.ok()) return positions.status();
      std::string missing;
      for (const auto& [p, offset] : bound.next_offsets) {
        auto it = positions->find(p);
        if (it == positions->end()) {
          return absl::InvalidArgumentError(
              absl::StrCat("min_position names partition ", p, ", which the log does not have"));
        }
        if (it->second < offset && missing.empty()) {
          missing = absl::StrCat("partition ", p, " is applied up to offset ", it->second,
                                 ", min_position needs ", offset);
        }
      }
      if (missing.empty()) return absl::OkStatus();
      const absl::Time now = absl::Now();
      if (now >= deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("the views have not reached min_position before the deadline: ", missing));
      }
      absl::MutexLock lock(&commit_mu);
      commit_cv.WaitWithDeadline(&commit_mu, std::min(deadline, now + kWaitPollInterval));
    }
  }

  absl::StatusOr<std::shared_ptr<AsOfStore>> AsOf(absl::Time as_of) {
    const int64_t key = absl::ToUnixMillis(as_of);
    const bool final = as_of <= absl::Now() - options.settle_delay;
    if (final) {
      absl::MutexLock lock(&as_of_mu);
      for (auto it = as_of_cache.begin(); it != as_of_cache.end(); ++it) {
        if (it->first == key) {
          as_of_cache.splice(as_of_cache.begin(), as_of_cache, it);
          return as_of_cache.front().second;
        }
      }
    }
    std::filesystem::path dir = options.as_of_dir;
    if (dir.empty()) {
      dir = shared_store ? std::filesystem::temp_directory_path()
                         : std::filesystem::path(options.sqlite_dir);
    }
    auto built = std::make_shared<AsOfStore>();
    built->path =
        (dir / absl::StrCat("as-of-", key, "-", getpid(), "-", as_of_counter++, ".db")).string();
    {
      COOP_ASSIGN_OR_RETURN(std::unique_ptr<sql::Connection> connection,
                            sql::OpenSqlite(built->path));
      ViewConsumerOptions consumer_options = options.consumer;
      consumer_options.group_id.clear();
      consumer_options.recorded_until = as_of;
      consumer_options.write_dead_letters = false;
      COOP_ASSIGN_OR_RETURN(
          std::unique_ptr<ViewConsumer> consumer,
          ViewConsumer::Create(consumer_options, std::move(connection), log.cluster_id));
      COOP_ASSIGN_OR_RETURN(Positions ends, consumer->EndOffsets());
      COOP_RETURN_IF_ERROR(consumer->Run(stopping, ends));
      if (stopping) return absl::UnavailableError("coop-views is stopping");
    }
    const std::string path = built->path;
    built->readers = std::make_shared<ConnectionPool>([path]() { return sql::OpenSqlite(path); },
                                                      options.read_connections);
    if (final) {
      absl::MutexLock lock(&as_of_mu);
      as_of_cache.emplace_front(key, built);
      while (static_cast<int>(as_of_cache.size()) > options.as_of_cache_entries) {
        as_of_cache.pop_back();
      }
    }
    return built;
  }

  absl::StatusOr<coop::v1::RebuildStatus> StatusOf(const sql::Row& row) {
    coop::v1::RebuildStatus status;
    status.set_generation(sql::AsInt(row[0]));
    status.set_state(static_cast<coop::v1::RebuildState>(sql::AsInt(row[1])));
    *status.mutable_start_time() = ToTimestamp(sql::AsInt(row[2]));
    if (!sql::IsNull(row[3])) *status.mutable_end_time() = ToTimestamp(sql::AsInt(row[3]));
    status.set_target_count(sql::AsInt(row[4]));
    status.set_applied_count(sql::AsInt(row[5]));
    status.set_error_message(sql::AsString(row[6]));
    if (status.state() == coop::v1::REBUILD_STATE_RUNNING ||
        status.state() == coop::v1::REBUILD_STATE_SERVING) {
      absl::StatusOr<std::unique_ptr<sql::Connection>> connection =
          store->OpenGeneration(status.generation());
      if (connection.ok()) {
        absl::StatusOr<Positions> positions = ReadPositions(**connection);
        if (positions.ok()) {
          status.set_applied_count(Sum(*positions));
          *status.mutable_cursor() = cursor::EncodeCursor(cursor::Cursor{log, *positions});
        }
      }
    }
    return status;
  }
};

ViewsEngine::ViewsEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<std::unique_ptr<ViewsEngine>> ViewsEngine::Start(ViewsEngineOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  if (impl->options.postgres_url.empty()) {
    std::error_code error;
    std::filesystem::create_directories(impl->options.sqlite_dir, error);
    if (error) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot create the views directory '", impl->options.sqlite_dir, "': ", error.message()));
    }
    impl->store = std::make_unique<SqliteStore>(impl->options.sqlite_dir);
  } else {
    impl->store = std::make_unique<PostgresStore>(impl->options.postgres_url);
    impl->shared_store = true;
  }
  {
    COOP_ASSIGN_OR_RETURN(std::unique_ptr<kafka::TopicAdmin> admin,
                          kafka::TopicAdmin::Create(impl->options.consumer.kafka));
    COOP_ASSIGN_OR_RETURN(impl->log.cluster_id, admin->ClusterId(absl::Seconds(30)));
    impl->log.topic = impl->options.consumer.topic;
  }
  int64_t serving_number = 0;
  {
    absl::MutexLock lock(&impl->catalog_mu);
    COOP_ASSIGN_OR_RETURN(impl->catalog, impl->store->OpenCatalog());
    sql::Connection& catalog = *impl->catalog;
    COOP_RETURN_IF_ERROR(catalog.ExecuteScript(sql::ExpandDdl(
        "CREATE TABLE IF NOT EXISTS generations (generation {INT} PRIMARY KEY, state {INT} NOT "
        "NULL, start_time_ms {INT} NOT NULL, end_time_ms {INT}, target_count {INT} NOT NULL, "
        "applied_count {INT} NOT NULL, error_message TEXT NOT NULL)",
        catalog.dialect())));
    COOP_RETURN_IF_ERROR(catalog.Begin(sql::Connection::TxMode::kWrite));
    auto init = [&]() -> absl::Status {
      const int64_t now_ms = absl::ToUnixMillis(absl::Now());
      // A rebuild that was running when its process stopped does not resume.
      COOP_ASSIGN_OR_RETURN(std::vector<sql::Row> interrupted,
                            catalog.Query("SELECT generation FROM generations WHERE state = $1",
                                          {Value(int64_t{coop::v1::REBUILD_STATE_RUNNING})}));
      if (!impl->shared_store) {
        for (const sql::Row& row : interrupted) {
          COOP_RETURN_IF_ERROR(
              catalog
                  .Execute("UPDATE generations SET state = $1, end_time_ms = $2, error_message = "
                           "$3 WHERE generation = $4",
                           {Value(int64_t{coop::v1::REBUILD_STATE_FAILED}), Value(now_ms),
                            Value(std::string("interrupted: coop-views stopped during the "
                                              "rebuild; start a new one")),
                            row[0]})
                  .status());
          COOP_RETURN_IF_ERROR(impl->store->DropGeneration(catalog, sql::AsInt(row[0])));
        }
      }
      COOP_ASSIGN_OR_RETURN(std::vector<sql::Row> rows,
                            catalog.Query("SELECT generation FROM generations WHERE state = $1",
                                          {Value(int64_t{coop::v1::REBUILD_STATE_SERVING})}));
      if (!rows.empty()) {
        serving_number = sql::AsInt(rows[0][0]);
        return absl::OkStatus();
      }
      serving_number = 1;
      COOP_RETURN_IF_ERROR(
          catalog
              .Execute("INSERT INTO generations (generation, state, start_time_ms, end_time_ms, "
                       "target_count, applied_count, error_message) VALUES (1, $1, $2, $2, 0, 0, "
                       "'') ON CONFLICT (generation) DO NOTHING",
                       {Value(int64_t{coop::v1::REBUILD_STATE_SERVING}), Value(now_ms)})
              .status());
      // The generation's tables must exist before the analysts' views can point at them.
      COOP_ASSIGN_OR_RETURN(std::unique_ptr<sql::Connection> first, impl->store->OpenGeneration(1));
      COOP_RETURN_IF_ERROR(MigrateGeneration(*first));
      return impl->store->Publish(catalog, 1);
    };
    absl::Status status = init();
    if (status.ok()) status = catalog.Commit();
    if (!status.ok()) {
      catalog.Rollback();
      return status;
    }
  }
  COOP_ASSIGN_OR_RETURN(std::shared_ptr<Generation> serving,
                        impl->OpenGeneration(serving_number, /*rebuild=*/false));
  impl->RunServing(serving);
  {
    absl::MutexLock lock(&impl->mu);
    impl->serving = std::move(serving);
  }
  spdlog::info("views: generation {} is serving ({})", serving_number,
               impl->store->DescribeGeneration(serving_number));
  if (impl->shared_store) {
    Impl* raw = impl.get();
    impl->monitor = std::thread([raw] { raw->Follow(); });
  }
  return std::unique_ptr<ViewsEngine>(new ViewsEngine(std::move(impl)));
}

ViewsEngine::~ViewsEngine() {
  Impl& impl = *impl_;
  impl.stopping = true;
  if (impl.monitor.joinable()) impl.monitor.join();
  std::shared_ptr<Generation> serving, rebuilding;
  {
    absl::MutexLock lock(&impl.mu);
    serving = impl.serving;
    rebuilding = impl.rebuilding;
  }
  if (rebuilding) {
    rebuilding->StopAndJoin();
    // A rebuild does not resume after a restart; say so, so that a new one may start.
    (void)impl.UpdateCatalog(
        "UPDATE generations SET state = $1, end_time_ms = $2, error_message = $3 WHERE "
        "generation = $4 AND state = $5",
        {Value(int64_t{coop::v1::REBUILD_STATE_FAILED}), Value(absl::ToUnixMillis(absl::Now())),
         Value(std::string("interrupted: coop-views stopped during the rebuild; start a new one")),
         Value(rebuilding->number), Value(int64_t{coop::v1::REBUILD_STATE_RUNNING})});
  }
  if (serving) serving->StopAndJoin();
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&impl.mu);
    threads.swap(impl.retired_threads);
    impl.serving.reset();
    impl.rebuilding.reset();
  }
  serving.reset();
  rebuilding.reset();
  for (std::thread& thread : threads) thread.join();
  absl::MutexLock lock(&impl.as_of_mu);
  impl.as_of_cache.clear();
}

const cursor::LogId& ViewsEngine::log() const { return impl_->log; }

absl::Status ViewsEngine::Read(absl::string_view min_position, absl::Time deadline,
                               std::optional<absl::Time> as_of, const ReadFn& read) {
  Impl& impl = *impl_;
  std::shared_ptr<Generation> serving;
  {
    absl::MutexLock lock(&impl.mu);
    serving = impl.serving;
  }
  if (serving == nullptr) return absl::UnavailableError("coop-views is stopping");
  if (!min_position.empty()) {
    COOP_ASSIGN_OR_RETURN(cursor::Cursor bound, cursor::DecodeCursor(min_position, impl.log));
    COOP_RETURN_IF_ERROR(impl.WaitFor(serving, bound, deadline));
  }
  std::shared_ptr<ConnectionPool> pool = serving->readers;
  std::shared_ptr<AsOfStore> as_of_store;
  if (as_of.has_value()) {
    if (*as_of > absl::Now()) return absl::InvalidArgumentError("as_of is in the future");
    COOP_ASSIGN_OR_RETURN(as_of_store, impl.AsOf(*as_of));
    pool = as_of_store->readers;
  }
  COOP_ASSIGN_OR_RETURN(std::unique_ptr<sql::Connection> connection, pool->Acquire(deadline));
  absl::Status status = connection->Begin(sql::Connection::TxMode::kSnapshot);
  if (status.ok()) status = read(*connection);
  connection->Rollback();
  pool->Release(std::move(connection), !absl::IsUnavailable(status));
  return status;
}

absl::StatusOr<coop::v1::RebuildStatus> ViewsEngine::StartRebuild() {
  Impl& impl = *impl_;
  std::shared_ptr<Generation> serving;
  {
    absl::MutexLock lock(&impl.mu);
    if (impl.rebuilding != nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "generation ", impl.rebuilding->number, " is being rebuilt; wait for it to finish"));
    }
    serving = impl.serving;
  }
  if (serving == nullptr) return absl::UnavailableError("coop-views is stopping");
  COOP_ASSIGN_OR_RETURN(Positions ends, serving->consumer->EndOffsets());
  int64_t number = 0;
  {
    absl::MutexLock lock(&impl.catalog_mu);
    COOP_RETURN_IF_ERROR(impl.catalog->Begin(sql::Connection::TxMode::kWrite));
    auto insert = [&]() -> absl::Status {
      COOP_ASSIGN_OR_RETURN(
          std::vector<sql::Row> running,
          impl.catalog->Query("SELECT generation FROM generations WHERE state = $1",
                              {Value(int64_t{coop::v1::REBUILD_STATE_RUNNING})}));
      if (!running.empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat("generation ", sql::AsInt(running[0][0]),
                         " is being rebuilt (by this or another process); wait for it to finish"));
      }
      COOP_ASSIGN_OR_RETURN(std::vector<sql::Row> max,
                            impl.catalog->Query("SELECT MAX(generation) FROM generations"));
      number = sql::AsInt(max[0][0]) + 1;
      return impl.catalog
          ->Execute(
              "INSERT INTO generations (generation, state, start_time_ms, target_count, "
              "applied_count, error_message) VALUES ($1, $2, $3, $4, 0, '')",
              {Value(number), Value(int64_t{coop::v1::REBUILD_STATE_RUNNING}),
               Value(absl::ToUnixMillis(absl::Now())), Value(Sum(ends))})
          .status();
    };
    absl::Status status = insert();
    if (status.ok()) status = impl.catalog->Commit();
    if (!status.ok()) {
      impl.catalog->Rollback();
      return status;
    }
    // Leftovers of an earlier attempt with this number would be read as applied.
    (void)impl.store->DropGeneration(*impl.catalog, number);
  }
  absl::StatusOr<std::shared_ptr<Generation>> generation =
      impl.OpenGeneration(number, /*rebuild=*/true);
  if (!generation.ok()) {
    (void)impl.UpdateCatalog(
        "UPDATE generations SET state = $1, end_time_ms = $2, error_message = $3 WHERE "
        "generation = $4",
        {Value(int64_t{coop::v1::REBUILD_STATE_FAILED}), Value(absl::ToUnixMillis(absl::Now())),
         Value(std::string(generation.status().ToString())), Value(number)});
    return generation.status();
  }
  {
    absl::MutexLock lock(&impl.mu);
    impl.rebuilding = *generation;
  }
  spdlog::info("views: rebuilding into generation {} ({} records in the log)", number, Sum(ends));
  impl.RunRebuild(*generation);
  return GetRebuild(number);
}

absl::StatusOr<coop::v1::RebuildStatus> ViewsEngine::GetRebuild(int64_t generation) {
  Impl& impl = *impl_;
  if (generation < 0) {
    return absl::InvalidArgumentError("generation must be >= 0 (0: the most recent)");
  }
  std::vector<sql::Row> rows;
  {
    absl::MutexLock lock(&impl.catalog_mu);
    const char* select =
        "SELECT generation, state, start_time_ms, end_time_ms, target_count, applied_count, "
        "error_message FROM generations WHERE generation = $1";
    if (generation == 0) {
      COOP_ASSIGN_OR_RETURN(
          rows, impl.catalog->Query("SELECT generation, state, start_time_ms, end_time_ms, "
                                    "target_count, applied_count, error_message FROM "
                                    "generations ORDER BY generation DESC LIMIT 1"));
    } else {
      COOP_ASSIGN_OR_RETURN(rows, impl.catalog->Query(select, {Value(generation)}));
    }
  }
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("generation ", generation, " does not exist"));
  }
  return impl.StatusOf(rows[0]);
}

int64_t ViewsEngine::serving_generation() const {
  absl::MutexLock lock(&impl_->mu);
  return impl_->serving ? impl_->serving->number : 0;
}

const ViewConsumerStats& ViewsEngine::serving_stats() const {
  absl::MutexLock lock(&impl_->mu);
  return impl_->serving->consumer->stats();
}

absl::Status ViewsEngine::health() const {
  std::shared_ptr<Generation> serving;
  {
    absl::MutexLock lock(&impl_->mu);
    serving = impl_->serving;
  }
  if (serving == nullptr) return absl::UnavailableError("coop-views is stopping");
  absl::MutexLock lock(&serving->mu);
  return serving->finished ? serving->result : absl::OkStatus();
}

}  // namespace coop::views
