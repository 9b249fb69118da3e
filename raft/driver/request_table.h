// RequestTable: the client requests waiting in one node (raft/driver/node.h), by
// what they wait for, with the ids that name them and their deadlines.
//
// A request waits for one thing at a time:
//   proposing     its proposal's place in the log (by ProposalId);
//   placed        the apply of the entry at that place (by log index; the
//                 entry must carry the term it was placed in to be ours);
//   read index    the leader's confirmed read index (by ReadId);
//   applied       this node's applied index reaching what it needs;
//   forwarded     the leader's answer to a forwarded request (by id).
// The node moves a request from one wait to the next by taking it out and
// adding it back; the table never answers anyone itself. Everything that
// takes requests out returns them, so a callback the node then runs (which
// may submit again) always sees a consistent table.
//
// Ids. ProposalIds stay inside this node's core and start at 1. ReadIds and
// forwarded-request ids travel to the leader and come back: a restarted node
// must not reuse the ids of its previous life, or a late answer to an old
// id would complete a new request with a stale read index or somebody
// else's response. So each life starts them at its own random point (from
// the per-boot seed) of a 2^62 space.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/container/btree_map.h"
#include "raft/driver/client_request.h"
#include "raft/core/types.h"

namespace reef::raft {

// A client request waiting for something, with the callback that answers it.
struct Waiter {
  ClientRequest request;  // payload already handed on where it was proposed
  ResponseCallback done;
};

class RequestTable {
 public:
  // A proposal with its place in the log.
  struct Placed {
    Term term;  // the entry at the index must have this term to be ours
    Waiter waiter;
  };
  // Requests whose deadline passed, split by how they must be answered: a
  // write's outcome is unknown, a read simply was not served.
  struct Expired {
    std::vector<ResponseCallback> writes;  // writes and strong reads
    std::vector<ResponseCallback> reads;
  };

  // `seed`: this boot's seed, from which the read and forward ids start.
  explicit RequestTable(uint64_t seed);

  // Proposals: waiting for a place in the log, then for the apply there.
  ProposalId add_proposing(Waiter waiter);
  std::optional<Waiter> take_proposing(ProposalId id);
  // Keeps an earlier request placed at the same index (as emplace does).
  void add_placed(Index index, Term term, Waiter waiter);
  std::optional<Placed> take_placed(Index index);
  // Every placed proposal at or below `index`, lowest first.
  std::vector<Waiter> take_placed_through(Index index);

  // Linearizable reads waiting for their read index.
  ReadId add_read_index(Waiter waiter);
  std::optional<Waiter> take_read_index(ReadId id);

  // Reads waiting for this node to apply `needed`.
  void add_waiting_for_applied(Index needed, Waiter waiter);
  // The read needing the lowest index, if `applied` reached it.
  std::optional<Waiter> take_servable(Index applied);

  // Requests forwarded to the leader, waiting for its reply.
  uint64_t add_forwarded(Waiter waiter);
  std::optional<Waiter> take_forwarded(uint64_t id);

  // Takes out every request whose deadline is at or before `now_ms`.
  Expired take_expired(uint64_t now_ms);
  // Takes out every request (the node stopped).
  std::vector<Waiter> take_all();

  uint64_t size() const;

 private:
  uint64_t next_proposal_id_ = 1;
  uint64_t next_read_id_ = 1;
  uint64_t next_forward_id_ = 1;
  absl::btree_map<uint64_t, Waiter> proposing_;           // by ProposalId, until placed
  absl::btree_map<uint64_t, Placed> placed_;              // by log index, until applied
  absl::btree_map<uint64_t, Waiter> read_indexes_;        // by ReadId, until confirmed
  absl::btree_multimap<uint64_t, Waiter> waiting_reads_;  // by the applied index they need
  absl::btree_map<uint64_t, Waiter> forwarded_;           // by forwarded request id
};

}  // namespace reef::raft
