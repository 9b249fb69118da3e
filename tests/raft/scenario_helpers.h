// Small helpers shared by the raft unit suites: selective delivery of
// in-flight messages, message predicates, and the closing safety assertion.
// They only drive the public Cluster API, so scenarios stay readable as
// "deliver these, drop those" scripts.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <set>
#include <vector>

#include "tests/raft/support/cluster.h"

namespace reef::raft::testing {

// Every suite ends with this: the cluster-wide safety checker saw no
// violation. Prints the violation and every node's state otherwise.
#define EXPECT_CLUSTER_SAFE(c)                                                                         \
  EXPECT_TRUE((c).checker().ok()) << ((c).checker().ok() ? std::string() : *(c).checker().violation()) \
                                  << "\n"                                                              \
                                  << (c).describe()

using EnvelopePredicate = std::function<bool(const Envelope&)>;

template <typename Body>
bool holds(const Message& m) {
  return std::holds_alternative<Body>(m.body);
}

// Predicate builders; combine with && in a lambda when needed.
template <typename Body>
EnvelopePredicate of_type() {
  return [](const Envelope& e) { return holds<Body>(e.message); };
}
inline EnvelopePredicate from_node(NodeId id) {
  return [id](const Envelope& e) { return e.message.from == id; };
}
inline EnvelopePredicate to_node(NodeId id) {
  return [id](const Envelope& e) { return e.message.to == id; };
}
inline EnvelopePredicate between(NodeId from, NodeId to) {
  return [from, to](const Envelope& e) { return e.message.from == from && e.message.to == to; };
}
inline EnvelopePredicate election_traffic() {
  return [](const Envelope& e) { return holds<RequestVote>(e.message) || holds<VoteResponse>(e.message); };
}
inline EnvelopePredicate both(EnvelopePredicate a, EnvelopePredicate b) {
  return [a = std::move(a), b = std::move(b)](const Envelope& e) { return a(e) && b(e); };
}
inline EnvelopePredicate any_message() {
  return [](const Envelope&) { return true; };
}

// Delivers matching messages in queue order, including matching messages
// sent in reaction, until none is left; the others stay queued in order.
// Bounded so that a livelock fails the test instead of hanging it.
inline size_t deliver_where(Cluster& c, const EnvelopePredicate& pred, size_t max_messages = 100000) {
  size_t delivered = 0;
  while (delivered < max_messages) {
    auto& q = c.in_flight();
    size_t i = 0;
    while (i < q.size() && !pred(q[i])) ++i;
    if (i == q.size()) break;
    c.deliver(i);
    ++delivered;
  }
  return delivered;
}

// Drops every matching message now in flight; returns how many.
inline size_t drop_where(Cluster& c, const EnvelopePredicate& pred) {
  size_t dropped = 0;
  for (size_t i = 0; i < c.in_flight().size();) {
    if (pred(c.in_flight()[i])) {
      c.drop(i);
      ++dropped;
    } else {
      ++i;
    }
  }
  return dropped;
}

inline size_t count_where(Cluster& c, const EnvelopePredicate& pred) {
  size_t n = 0;
  for (const Envelope& e : c.in_flight()) n += pred(e) ? 1 : 0;
  return n;
}

// Copies of the matching in-flight messages, in queue order.
inline std::vector<Message> messages_where(Cluster& c, const EnvelopePredicate& pred) {
  std::vector<Message> out;
  for (const Envelope& e : c.in_flight()) {
    if (pred(e)) out.push_back(e.message);
  }
  return out;
}

// Ticks every node and delivers everything, `rounds` times.
inline void run_rounds(Cluster& c, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    c.tick_all();
    c.deliver_all();
  }
}

// The voters other than `self`, in id order.
inline std::vector<NodeId> others(const Cluster& c, NodeId self) {
  std::vector<NodeId> out;
  for (NodeId id : c.ids()) {
    if (id != self) out.push_back(id);
  }
  return out;
}

// Lets an election timeout pass for `nodes` while every node is cut off from
// every other, then drops whatever they sent. With pre-vote (the default) a
// node that times out alone only asks and keeps its term, so the net effect
// is "these nodes no longer remember a live leader" (thesis §4.2.3
// stickiness no longer holds their votes back). Leaves the network
// partitioned into singletons; the caller re-partitions.
inline void let_leader_lease_lapse(Cluster& c, const std::vector<NodeId>& nodes) {
  c.partition({});
  for (NodeId id : nodes) {
    const uint32_t timeout = c.core(id).config().election_timeout_ticks;
    c.tick(id, static_cast<int>(2 * timeout));
  }
  c.drop_all();
}

// Total number of entries the node applied, no-ops included.
inline uint64_t applied_count(const Cluster& c, NodeId id) { return c.applied(id).size(); }

}  // namespace reef::raft::testing
