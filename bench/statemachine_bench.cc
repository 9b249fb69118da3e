// Throughput of the SQL state machine (statemachine::SqlStateMachine) through
// the raft::StateMachine port, next to a raw SQLite floor measured in the
// same run.
//
// State machine side, each call exactly as the node driver or the HTTP layer
// makes it:
//   Apply/1Insert      apply(LogEntry) of a CommandBatch with one single-row
//                      INSERT with four parameters (the SQL text repeats, so
//                      the prepared statement is cached);
//   Apply/100Inserts   the same with 100 single-row INSERTs per batch;
//   Query/Port         query(encoded QueryRequest) of a point lookup by
//                      primary key, answer an encoded QueryResponse;
//   Query/Typed        run_query(sql, params), the typed form of the same;
//   Snapshot/100MB     snapshot(configuration) + next_chunk(1 MiB) until the
//                      end (the driver's default snapshot_chunk_bytes);
//   Restore/100MB      begin_restore() + add_chunk(every 1 MiB chunk) +
//                      finish(), which swaps the restored database in.
// Batches carry realistic sessions: 64 distinct client ids taking turns, each
// with its own increasing sequence, and an increasing leader timestamp, so
// every batch also looks up and records its client's session (the response
// is stored for exactly-once retries).
//
// Raw side (sqlite3 C API, in-memory database, same table, same values):
//   Raw/1Insert, Raw/100Inserts   BEGIN; prepared INSERT per row; COMMIT
//                                 (statements prepared once);
//   Raw/PointLookup               prepared SELECT by primary key, columns read;
//   Raw/Memcpy100MB               malloc + memcpy + free of the same number of
//                                 bytes as the snapshot stream (the floor for
//                                 copying the image out or in).
//
// Timing. One benchmark iteration is a block of work (256 or 32 batches,
// 1,024 lookups, one whole snapshot or restore). What is not the measured
// component's work happens outside the timed region: encoding the block's
// CommandBatch payloads (the client's and leader's work), checking every
// response afterwards. The time reported is the benchmark thread's CPU time
// (CLOCK_THREAD_CPUTIME_ID, user + system, so page faults count) over the
// timed region only, fed to Google Benchmark as manual time: on a machine
// shared with other jobs it does not count time spent preempted. The counter
// wall_per_cpu (wall-clock / CPU time of the same regions) shows how much that
// was; near 1 means the figures hold as wall-clock throughput too.
//
// Counters: items_per_second (batches for Apply/1Insert, rows for
// Apply/100Inserts, lookups for Query, nothing for snapshot/restore),
// bytes_per_second (encoded entry payloads for Apply, snapshot stream bytes
// for Snapshot/Restore/Memcpy), batches_per_second for Apply.
//
// `--fixed=<apply1|apply100|lookup>:<count>` runs a fixed amount of the same
// state-machine work without Google Benchmark, for callgrind:
//   valgrind --tool=callgrind build-g/bin/statemachine_bench --fixed=apply1:20000
#include <sqlite3.h>
#include <time.h>

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "benchmark/benchmark.h"
#include "raft/core/log_entry.h"
#include "raft/core/membership.h"
#include "raft/ports/state_machine.h"
#include "raft/core/types.h"
#include "statemachine/batch_response.h"
#include "statemachine/command_batch.h"
#include "statemachine/query_codec.h"
#include "statemachine/sql_state_machine.h"
#include "statemachine/value.h"

namespace reef::bench {
namespace {

using statemachine::Blob;
using statemachine::CommandBatch;
using statemachine::Param;
using statemachine::SqlStateMachine;
using statemachine::Statement;
using statemachine::Value;

constexpr uint64_t kClients = 64;               // distinct sessions taking turns
constexpr int64_t kStartMs = 1'790'000'000'000;  // leader clock at the first batch
constexpr size_t kRowPayloadBytes = 64;         // blob column of an items row
constexpr uint64_t kLookupRows = 100'000;       // rows the lookup benchmarks search
constexpr size_t kLookupsPerIteration = 1024;
constexpr size_t kLookupRequests = 4096;        // distinct pre-encoded lookups, cycled
constexpr uint64_t kImageTargetBytes = 100'000'000;
constexpr size_t kImageBlobBytes = 64 << 10;
constexpr size_t kBlobsPerBatch = 16;
constexpr uint64_t kChunkBytes = 1 << 20;  // raft::NodeConfig::snapshot_chunk_bytes default

constexpr const char* kCreateItems =
    "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER NOT NULL, payload BLOB NOT NULL)";
constexpr const char* kCreateBlobs = "CREATE TABLE blobs(id INTEGER PRIMARY KEY, data BLOB NOT NULL)";
constexpr const char* kLookupSql = "SELECT name, qty, payload FROM items WHERE id = ?1";
constexpr const char* kRawInsertSql = "INSERT INTO \"items\" (\"id\", \"name\", \"qty\", \"payload\") VALUES (?, ?, ?, ?)";

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "statemachine_bench: %s\n", what.c_str());
  std::exit(1);
}

void check(const absl::Status& status, const char* what) {
  if (!status.ok()) die(std::string(what) + ": " + std::string(status.ToString()));
}

template <typename T>
T take(absl::StatusOr<T> value, const char* what) {
  check(value.status(), what);
  return *std::move(value);
}

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string random_bytes(uint64_t seed, size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t v = splitmix64(seed);
    std::memcpy(out.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Timing: thread CPU time and wall time of the timed regions.

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double wall_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

class RegionTimer {
 public:
  void start() {
    wall_start_ = wall_seconds();
    cpu_start_ = thread_cpu_seconds();
  }
  // Ends the region and hands its CPU time to Google Benchmark.
  void stop(benchmark::State& state) {
    const double cpu = thread_cpu_seconds() - cpu_start_;
    const double wall = wall_seconds() - wall_start_;
    cpu_total_ += cpu;
    wall_total_ += wall;
    state.SetIterationTime(cpu);
  }
  void report(benchmark::State& state) const {
    if (cpu_total_ > 0) state.counters["wall_per_cpu"] = wall_total_ / cpu_total_;
  }

 private:
  double cpu_start_ = 0;
  double wall_start_ = 0;
  double cpu_total_ = 0;
  double wall_total_ = 0;
};

void set_rate(benchmark::State& state, const char* name, double count) {
  state.counters[name] = benchmark::Counter(count, benchmark::Counter::kIsRate);
}

// ---------------------------------------------------------------------------
// Rows and batches.

struct ItemRow {
  int64_t id = 0;
  std::string name;
  int64_t qty = 0;
  std::string payload;
};

ItemRow make_item(int64_t id) {
  return ItemRow{id, "item-" + std::to_string(id), (id * 7919) % 1000, random_bytes(static_cast<uint64_t>(id), kRowPayloadBytes)};
}

Statement insert_statement(const ItemRow& row) {
  return Statement{R"(INSERT INTO "items" ("id", "name", "qty", "payload") VALUES (?, ?, ?, ?))",
                   {Param{"", Value(row.id)}, Param{"", Value(row.name)}, Param{"", Value(row.qty)},
                    Param{"", Value(Blob{row.payload})}}};
}

// Numbers batches, gives them to the clients in turn (each with its own
// increasing sequence) and wraps them as the next log entries.
class EntrySource {
 public:
  raft::LogEntry next(std::vector<Statement> statements) {
    const uint64_t n = batches_++;
    CommandBatch batch;
    batch.id = statemachine::CommandId{1000 + n % kClients, n / kClients + 1};
    batch.leader_timestamp_ms = kStartMs + static_cast<int64_t>(n / 50);  // ~50 batches per ms
    batch.statements = std::move(statements);
    return raft::LogEntry{raft::Term(1), raft::Index(++index_), raft::EntryType::kNormal,
                          statemachine::encode_command_batch(batch)};
  }
  uint64_t batches() const { return batches_; }

 private:
  uint64_t batches_ = 0;
  uint64_t index_ = 0;
};

void check_response(const std::string& bytes) {
  auto response = take(statemachine::decode_batch_response(bytes), "decode_batch_response");
  if (!response.ok() || response.duplicate) die("batch failed: " + response.message);
}

void apply_checked(SqlStateMachine& sm, const raft::LogEntry& entry) {
  check_response(take(sm.apply(entry), "apply"));
}

std::unique_ptr<SqlStateMachine> new_state_machine() {
  return take(SqlStateMachine::create(), "SqlStateMachine::create");
}

int64_t count_rows(SqlStateMachine& sm, const char* table) {
  auto result = take(sm.run_query(std::string("SELECT count(*) FROM ") + table), "count");
  return std::get<int64_t>(result.rows.at(0).at(0));
}

// A state machine with the items table (created through apply, entry 1).
struct ApplyFixture {
  std::unique_ptr<SqlStateMachine> sm = new_state_machine();
  EntrySource source;
  int64_t next_id = 1;

  ApplyFixture() { apply_checked(*sm, source.next({Statement{kCreateItems, {}}})); }

  std::vector<raft::LogEntry> block(size_t batches, size_t rows_per_batch) {
    std::vector<raft::LogEntry> entries;
    entries.reserve(batches);
    for (size_t b = 0; b < batches; ++b) {
      std::vector<Statement> statements;
      statements.reserve(rows_per_batch);
      for (size_t r = 0; r < rows_per_batch; ++r) statements.push_back(insert_statement(make_item(next_id++)));
      entries.push_back(source.next(std::move(statements)));
    }
    return entries;
  }
};

// ---------------------------------------------------------------------------
// Apply.

void run_apply(benchmark::State& state, size_t rows_per_batch, size_t batches_per_iteration) {
  ApplyFixture f;
  RegionTimer timer;
  std::vector<std::string> responses(batches_per_iteration);
  uint64_t batches = 0;
  uint64_t payload_bytes = 0;
  for (auto _ : state) {
    const std::vector<raft::LogEntry> entries = f.block(batches_per_iteration, rows_per_batch);
    timer.start();
    for (size_t i = 0; i < entries.size(); ++i) responses[i] = take(f.sm->apply(entries[i]), "apply");
    timer.stop(state);
    for (const std::string& r : responses) check_response(r);
    for (const raft::LogEntry& e : entries) payload_bytes += e.payload.size();
    batches += entries.size();
  }
  const int64_t rows = f.next_id - 1;
  if (count_rows(*f.sm, "items") != rows) die("row count does not match the inserts");
  if (f.sm->session_count() != std::min<uint64_t>(kClients, f.source.batches())) die("unexpected session count");
  state.SetItemsProcessed(static_cast<int64_t>(batches * rows_per_batch));
  state.SetBytesProcessed(static_cast<int64_t>(payload_bytes));
  set_rate(state, "batches_per_second", static_cast<double>(batches));
  state.counters["payload_bytes_per_batch"] = static_cast<double>(payload_bytes) / static_cast<double>(batches);
  timer.report(state);
}

void BM_Apply_1Insert(benchmark::State& state) { run_apply(state, 1, 256); }
void BM_Apply_100Inserts(benchmark::State& state) { run_apply(state, 100, 32); }

// ---------------------------------------------------------------------------
// Point lookups: one state machine with kLookupRows rows, shared by both forms.

SqlStateMachine& lookup_state_machine() {
  static ApplyFixture* fixture = [] {
    auto* f = new ApplyFixture();
    for (uint64_t done = 0; done < kLookupRows; done += 100) {
      for (const raft::LogEntry& e : f->block(1, 100)) apply_checked(*f->sm, e);
    }
    return f;
  }();
  return *fixture->sm;
}

std::vector<int64_t> lookup_ids() {
  std::vector<int64_t> ids(kLookupRequests);
  uint64_t seed = 42;
  for (int64_t& id : ids) id = static_cast<int64_t>(splitmix64(seed) % kLookupRows) + 1;
  return ids;
}

void BM_Query_Port_PointLookup(benchmark::State& state) {
  SqlStateMachine& sm = lookup_state_machine();
  std::vector<std::string> requests;
  for (int64_t id : lookup_ids()) {
    requests.push_back(statemachine::encode_query_request(Statement{kLookupSql, {Param{"", Value(id)}}}));
  }
  // Every request answers its row before anything is timed.
  for (size_t i = 0; i < requests.size(); ++i) {
    auto response = take(statemachine::decode_query_response(take(sm.query(requests[i]), "query")), "decode");
    if (!response.ok() || response.rows.size() != 1) die("lookup failed: " + response.message);
  }
  RegionTimer timer;
  size_t next = 0;
  uint64_t response_bytes = 0;
  for (auto _ : state) {
    timer.start();
    for (size_t i = 0; i < kLookupsPerIteration; ++i) {
      absl::StatusOr<std::string> response = sm.query(requests[next]);
      if (!response.ok()) die("query failed: " + std::string(response.status().ToString()));
      response_bytes += response->size();
      next = (next + 1) % requests.size();
    }
    timer.stop(state);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kLookupsPerIteration));
  state.counters["response_bytes"] =
      static_cast<double>(response_bytes) / static_cast<double>(state.iterations() * kLookupsPerIteration);
  timer.report(state);
}

void BM_Query_Typed_PointLookup(benchmark::State& state) {
  SqlStateMachine& sm = lookup_state_machine();
  std::vector<std::vector<Param>> params;
  for (int64_t id : lookup_ids()) params.push_back({Param{"", Value(id)}});
  for (const auto& p : params) {
    auto result = take(sm.run_query(kLookupSql, p), "run_query");
    if (result.rows.size() != 1) die("lookup found no row");
  }
  RegionTimer timer;
  size_t next = 0;
  for (auto _ : state) {
    timer.start();
    for (size_t i = 0; i < kLookupsPerIteration; ++i) {
      absl::StatusOr<statemachine::QueryResult> result = sm.run_query(kLookupSql, params[next]);
      if (!result.ok()) die("run_query failed: " + std::string(result.status().ToString()));
      benchmark::DoNotOptimize(result->rows.data());
      next = (next + 1) % params.size();
    }
    timer.stop(state);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kLookupsPerIteration));
  timer.report(state);
}

// ---------------------------------------------------------------------------
// Snapshot and restore of a ~100 MB database (64 KiB blobs, applied as
// batches of 16), shared by both benchmarks; restoring a snapshot of the
// same state leaves it as it was.

const raft::Configuration& configuration() {
  static const raft::Configuration c =
      raft::Configuration::of_voters({raft::NodeId(1), raft::NodeId(2), raft::NodeId(3)});
  return c;
}

SqlStateMachine& big_state_machine() {
  static SqlStateMachine* sm = [] {
    SqlStateMachine* m = new_state_machine().release();
    EntrySource source;
    apply_checked(*m, source.next({Statement{kCreateBlobs, {}}}));
    const uint64_t blobs = (kImageTargetBytes + kImageBlobBytes - 1) / kImageBlobBytes;
    for (uint64_t id = 1; id <= blobs;) {
      std::vector<Statement> statements;
      for (size_t i = 0; i < kBlobsPerBatch && id <= blobs; ++i, ++id) {
        statements.push_back(Statement{"INSERT INTO blobs(id, data) VALUES (?1, ?2)",
                                       {Param{"", Value(static_cast<int64_t>(id))},
                                        Param{"", Value(Blob{random_bytes(id, kImageBlobBytes)})}}});
      }
      apply_checked(*m, source.next(std::move(statements)));
    }
    if (count_rows(*m, "blobs") != static_cast<int64_t>(blobs)) die("blob count");
    return m;
  }();
  return *sm;
}

std::vector<std::string> read_snapshot(raft::StateMachineSnapshot& snapshot) {
  std::vector<std::string> chunks;
  for (;;) {
    std::optional<std::string> chunk = take(snapshot.next_chunk(kChunkBytes), "next_chunk");
    if (!chunk.has_value()) return chunks;
    chunks.push_back(*std::move(chunk));
  }
}

uint64_t stream_bytes() {
  static const uint64_t bytes = take(big_state_machine().snapshot(configuration()), "snapshot")->size_bytes();
  return bytes;
}

void BM_Snapshot_100MB(benchmark::State& state) {
  SqlStateMachine& sm = big_state_machine();
  RegionTimer timer;
  uint64_t bytes = 0;
  for (auto _ : state) {
    timer.start();
    std::unique_ptr<raft::StateMachineSnapshot> snapshot = take(sm.snapshot(configuration()), "snapshot");
    uint64_t read = 0;
    for (;;) {
      std::optional<std::string> chunk = take(snapshot->next_chunk(kChunkBytes), "next_chunk");
      if (!chunk.has_value()) break;
      read += chunk->size();
    }
    snapshot.reset();
    timer.stop(state);
    if (read != stream_bytes()) die("snapshot stream size changed");
    bytes += read;
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["stream_MB"] = static_cast<double>(stream_bytes()) / 1e6;
  timer.report(state);
}

void BM_Restore_100MB(benchmark::State& state) {
  SqlStateMachine& sm = big_state_machine();
  const uint64_t hash_before = take(sm.state_hash(), "state_hash");
  const std::vector<std::string> chunks = read_snapshot(*take(sm.snapshot(configuration()), "snapshot"));
  const raft::AppliedPosition applied = sm.applied();
  RegionTimer timer;
  uint64_t bytes = 0;
  for (auto _ : state) {
    timer.start();
    std::unique_ptr<raft::StateMachineRestore> restore = take(sm.begin_restore(), "begin_restore");
    for (const std::string& chunk : chunks) check(restore->add_chunk(chunk), "add_chunk");
    const raft::SnapshotMeta meta = take(restore->finish(), "finish");
    restore.reset();
    timer.stop(state);
    if (meta.index != applied.index || !(sm.applied() == applied)) die("restore moved the applied position");
    bytes += stream_bytes();
  }
  if (take(sm.state_hash(), "state_hash") != hash_before) die("restore changed the state");
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["stream_MB"] = static_cast<double>(stream_bytes()) / 1e6;
  timer.report(state);
}

// ---------------------------------------------------------------------------
// Raw SQLite floor.

class RawDb {
 public:
  RawDb() {
    if (sqlite3_open(":memory:", &db_) != SQLITE_OK) die("sqlite3_open");
    exec(kCreateItems);
    insert_ = prepare(kRawInsertSql);
    begin_ = prepare("BEGIN");
    commit_ = prepare("COMMIT");
    lookup_ = prepare(kLookupSql);
  }
  ~RawDb() {
    for (sqlite3_stmt* s : {insert_, begin_, commit_, lookup_}) sqlite3_finalize(s);
    sqlite3_close(db_);
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // One transaction with the rows of one batch.
  void insert_batch(const ItemRow* rows, size_t n) {
    step_done(begin_);
    for (size_t i = 0; i < n; ++i) {
      const ItemRow& r = rows[i];
      sqlite3_bind_int64(insert_, 1, r.id);
      sqlite3_bind_text(insert_, 2, r.name.data(), static_cast<int>(r.name.size()), SQLITE_STATIC);
      sqlite3_bind_int64(insert_, 3, r.qty);
      sqlite3_bind_blob(insert_, 4, r.payload.data(), static_cast<int>(r.payload.size()), SQLITE_STATIC);
      step_done(insert_);
    }
    step_done(commit_);
  }

  // Bytes of the row found (name + payload), 0 when absent.
  size_t lookup(int64_t id) {
    sqlite3_bind_int64(lookup_, 1, id);
    size_t bytes = 0;
    if (sqlite3_step(lookup_) == SQLITE_ROW) {
      const void* name = sqlite3_column_text(lookup_, 0);
      bytes += static_cast<size_t>(sqlite3_column_bytes(lookup_, 0));
      benchmark::DoNotOptimize(name);
      benchmark::DoNotOptimize(sqlite3_column_int64(lookup_, 1));
      const void* payload = sqlite3_column_blob(lookup_, 2);
      bytes += static_cast<size_t>(sqlite3_column_bytes(lookup_, 2));
      benchmark::DoNotOptimize(payload);
    }
    sqlite3_reset(lookup_);
    return bytes;
  }

  int64_t count() {
    sqlite3_stmt* s = prepare("SELECT count(*) FROM items");
    if (sqlite3_step(s) != SQLITE_ROW) die("count");
    const int64_t n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
  }

 private:
  void exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) die(std::string("exec: ") + sqlite3_errmsg(db_));
  }
  sqlite3_stmt* prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) die(std::string("prepare: ") + sqlite3_errmsg(db_));
    return s;
  }
  void step_done(sqlite3_stmt* s) {
    if (sqlite3_step(s) != SQLITE_DONE) die(std::string("step: ") + sqlite3_errmsg(db_));
    sqlite3_reset(s);
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  sqlite3_stmt* lookup_ = nullptr;
};

void run_raw_insert(benchmark::State& state, size_t rows_per_batch, size_t batches_per_iteration) {
  RawDb db;
  RegionTimer timer;
  int64_t next_id = 1;
  uint64_t batches = 0;
  std::vector<ItemRow> rows(rows_per_batch * batches_per_iteration);
  for (auto _ : state) {
    for (ItemRow& r : rows) r = make_item(next_id++);
    timer.start();
    for (size_t b = 0; b < batches_per_iteration; ++b) db.insert_batch(&rows[b * rows_per_batch], rows_per_batch);
    timer.stop(state);
    batches += batches_per_iteration;
  }
  if (db.count() != next_id - 1) die("raw row count does not match the inserts");
  state.SetItemsProcessed(static_cast<int64_t>(batches * rows_per_batch));
  set_rate(state, "batches_per_second", static_cast<double>(batches));
  timer.report(state);
}

void BM_Raw_1Insert(benchmark::State& state) { run_raw_insert(state, 1, 256); }
void BM_Raw_100Inserts(benchmark::State& state) { run_raw_insert(state, 100, 32); }

void BM_Raw_PointLookup(benchmark::State& state) {
  RawDb db;
  for (int64_t id = 1; id <= static_cast<int64_t>(kLookupRows); id += 100) {
    std::vector<ItemRow> rows;
    for (int64_t i = id; i < id + 100; ++i) rows.push_back(make_item(i));
    db.insert_batch(rows.data(), rows.size());
  }
  const std::vector<int64_t> ids = lookup_ids();
  for (int64_t id : ids) {
    if (db.lookup(id) == 0) die("raw lookup found no row");
  }
  RegionTimer timer;
  size_t next = 0;
  for (auto _ : state) {
    timer.start();
    for (size_t i = 0; i < kLookupsPerIteration; ++i) {
      benchmark::DoNotOptimize(db.lookup(ids[next]));
      next = (next + 1) % ids.size();
    }
    timer.stop(state);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kLookupsPerIteration));
  timer.report(state);
}

void BM_Raw_Memcpy100MB(benchmark::State& state) {
  const size_t n = static_cast<size_t>(stream_bytes());
  std::string source = random_bytes(7, n);
  RegionTimer timer;
  for (auto _ : state) {
    timer.start();
    auto* copy = static_cast<char*>(std::malloc(n));
    if (copy == nullptr) die("malloc");
    std::memcpy(copy, source.data(), n);
    benchmark::DoNotOptimize(copy);
    benchmark::ClobberMemory();
    std::free(copy);
    timer.stop(state);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
  state.counters["stream_MB"] = static_cast<double>(n) / 1e6;
  timer.report(state);
}

BENCHMARK(BM_Apply_1Insert)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Raw_1Insert)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Apply_100Inserts)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Raw_100Inserts)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Query_Port_PointLookup)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Query_Typed_PointLookup)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Raw_PointLookup)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Snapshot_100MB)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Restore_100MB)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Raw_Memcpy100MB)->UseManualTime()->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------
// A fixed amount of state-machine work without Google Benchmark's
// calibration, so instruction counts under callgrind compare between builds.

int run_fixed(const std::string& what, uint64_t count) {
  if (what == "apply1" || what == "apply100") {
    const size_t rows = what == "apply1" ? 1 : 100;
    ApplyFixture f;
    for (uint64_t done = 0; done < count; done += 64) {
      for (const raft::LogEntry& e : f.block(static_cast<size_t>(std::min<uint64_t>(64, count - done)), rows)) {
        apply_checked(*f.sm, e);
      }
    }
    std::printf("%s: %" PRIu64 " batches, %" PRId64 " rows\n", what.c_str(), f.source.batches() - 1,
                count_rows(*f.sm, "items"));
    return 0;
  }
  if (what == "lookup") {
    SqlStateMachine& sm = lookup_state_machine();
    const std::vector<int64_t> ids = lookup_ids();
    uint64_t found = 0;
    for (uint64_t i = 0; i < count; ++i) {
      const std::string request =
          statemachine::encode_query_request(Statement{kLookupSql, {Param{"", Value(ids[i % ids.size()])}}});
      found += take(sm.query(request), "query").size() > 0 ? 1 : 0;
    }
    std::printf("lookup: %" PRIu64 " queries answered\n", found);
    return 0;
  }
  std::fprintf(stderr, "--fixed=<apply1|apply100|lookup>:<count>\n");
  return 2;
}

}  // namespace
}  // namespace reef::bench

// Usage: statemachine_bench [Google Benchmark flags]
//        statemachine_bench --fixed=<apply1|apply100|lookup>:<count>
int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--fixed=", 0) == 0) {
      const size_t colon = arg.find(':');
      if (colon == std::string::npos) return reef::bench::run_fixed("", 0);
      return reef::bench::run_fixed(arg.substr(8, colon - 8), std::strtoull(arg.c_str() + colon + 1, nullptr, 10));
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
