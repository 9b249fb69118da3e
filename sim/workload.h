// Workload: the simulated clients of a run. Each client has an exactly-once
// session (its client id; one sequence number per command) and does one
// operation at a time against a node it picks at random, with a deadline;
// when an attempt fails in a way that leaves the outcome open (timeout, node
// down, leadership change) it retries the SAME command id on another node,
// which the sessions table makes safe.
//
// Operations (over SQL, table `registers(k TEXT PRIMARY KEY, v TEXT)`):
//   write(k, v)        upsert, through the log
//   cas(k, old, new)   UPDATE ... WHERE k = ? AND v = ?, through the log
//   read(k)            at level linearizable (ReadIndex), strong (through
//                      the log), weak (leader-local) or none (any node, with
//                      the client's last seen applied index as its minimum)
//   sql                other SQL (an insert with CURRENT_TIMESTAMP and
//                      random(), an aggregate query) that must simply work
// Writes, CAS and linearizable/strong reads go into the History for the
// linearizability checker; weak/none reads are checked against their weaker
// promise (WeakReadCheck): the value was written by some write invoked
// before the read completed, or the key was absent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "raft/driver/node.h"
#include "raft/core/random.h"
#include "sim/history.h"
#include "sim/sim_cluster.h"

namespace reef::sim {

struct WorkloadMix {
  // Relative weights.
  uint32_t write = 30;
  uint32_t cas = 10;
  uint32_t read_linearizable = 25;
  uint32_t read_strong = 10;
  uint32_t read_weak = 8;
  uint32_t read_none = 7;
  uint32_t sql = 10;
};

struct WorkloadOptions {
  size_t clients = 8;
  size_t keys = 5;
  // Offered load over all clients, in operations per simulated second.
  uint64_t ops_per_second = 200;
  WorkloadMix mix;
  // Per attempt; a client waits this long (in its target node's clock, plus
  // a margin in simulated time for a node that died) before retrying.
  uint64_t attempt_timeout_ms = 1000;
  uint32_t max_attempts = 6;
  uint64_t retry_backoff_ms = 50;
};

struct WorkloadStats {
  uint64_t invoked = 0;
  uint64_t ok = 0;
  uint64_t failed = 0;   // definitely not applied / read not served
  uint64_t unknown = 0;  // outcome open
  uint64_t attempts = 0;
  uint64_t retries = 0;
  uint64_t sql_errors = 0;  // general SQL that failed in a way it never should
};

// A weak or none read: what it returned and when.
struct WeakRead {
  std::string key;
  std::optional<std::string> value;
  uint64_t complete_us = 0;
};

class Workload {
 public:
  Workload(SimCluster& cluster, WorkloadOptions options, uint64_t seed, History& history);

  // Creates the tables (retrying until it succeeds), then starts the clients.
  void start();
  // Clients finish what they are doing and start nothing new.
  void stop_issuing() { issuing_ = false; }
  // No operation in flight.
  bool idle() const { return in_flight_ == 0 && setup_done_; }
  bool setup_done() const { return setup_done_; }

  const WorkloadStats& stats() const { return stats_; }
  const std::vector<WeakRead>& weak_reads() const { return weak_reads_; }
  // The first general-SQL error that should never happen, if any.
  const std::optional<std::string>& sql_error() const { return sql_error_; }

  // Encodings shared with the final checks.
  static std::string register_query(const std::string& key);
  static std::optional<std::optional<std::string>> decode_register_read(const std::string& query_response);

 private:
  enum class Kind { kWrite, kCas, kReadLinearizable, kReadStrong, kReadWeak, kReadNone, kSqlWrite, kSqlRead };
  struct Op {
    Kind kind = Kind::kWrite;
    uint64_t client = 0;
    uint64_t sequence = 0;  // commands through the log
    std::string key;
    std::string value;
    std::string expected;
    std::optional<uint64_t> history_id;
    uint32_t attempts = 0;
    bool maybe_applied = false;  // an attempt ended without a definite "not applied"
    uint64_t attempt_token = 0;
  };
  struct Client {
    uint64_t id = 0;
    uint64_t next_sequence = 1;
    raft::Index last_seen_applied;
  };

  void schedule_next_op(Client& client);
  void start_op(Client& client);
  Op make_op(Client& client);
  void attempt(Op op);
  raft::ClientRequest request_for(const Op& op, raft::NodeId target) const;
  void on_response(Op op, raft::ClientResponse response);
  void on_attempt_failed(Op op, bool maybe_applied);
  void finish(Op& op, OpOutcome outcome, std::optional<std::string> read_value = std::nullopt,
              bool cas_succeeded = false);
  void finish_read(Op& op, const std::string& query_response);
  void finish_command(Op& op, const std::string& batch_response);
  void run_setup();
  raft::NodeId pick_node();
  uint64_t think_time_us();

  SimCluster& cluster_;
  WorkloadOptions options_;
  raft::Prng rng_;
  History& history_;
  std::vector<Client> clients_;
  WorkloadStats stats_;
  std::vector<WeakRead> weak_reads_;
  std::optional<std::string> sql_error_;
  bool issuing_ = true;
  bool setup_done_ = false;
  uint64_t in_flight_ = 0;
  uint64_t next_token_ = 1;
  uint64_t next_value_ = 1;
};

}  // namespace reef::sim
