// RapidCheck generators of NodeMessages the node could send: every kind,
// arbitrary field values (including extremes), byte strings with any bytes,
// configurations as MajorityConfig and Configuration keep them (sorted,
// unique, no id 0), and core messages whose from/to match the envelope.
#pragma once

#include <rapidcheck.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "raft/ports/node_message.h"

namespace reef::transport::testing {

// Mostly small values, sometimes the extremes a uint64 field can hold.
inline rc::Gen<uint64_t> gen_u64() {
  return rc::gen::weightedOneOf<uint64_t>(
      {{6, rc::gen::inRange<uint64_t>(0, 1000)},
       {2, rc::gen::arbitrary<uint64_t>()},
       {1, rc::gen::element<uint64_t>(uint64_t{0}, uint64_t{1}, UINT64_MAX, UINT64_MAX - 1)}});
}

inline rc::Gen<raft::NodeId> gen_node_id() {
  return rc::gen::map(rc::gen::weightedOneOf<uint64_t>({{8, rc::gen::inRange<uint64_t>(1, 10)},
                                                        {1, rc::gen::inRange<uint64_t>(1, UINT64_MAX)}}),
                      [](uint64_t v) { return raft::NodeId(v); });
}

inline rc::Gen<std::string> gen_bytes() {
  return rc::gen::weightedOneOf<std::string>(
      {{4, rc::gen::container<std::string>(rc::gen::arbitrary<char>())},
       {1,
        rc::gen::map(rc::gen::inRange<size_t>(0, 5000), [](size_t n) { return std::string(n, '\xff'); })}});
}

inline rc::Gen<std::vector<raft::NodeId>> gen_sorted_ids() {
  return rc::gen::map(rc::gen::container<std::vector<raft::NodeId>>(gen_node_id()),
                      [](std::vector<raft::NodeId> ids) {
                        std::sort(ids.begin(), ids.end());
                        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
                        return ids;
                      });
}

inline rc::Gen<raft::SnapshotMeta> gen_meta() {
  return rc::gen::apply(
      [](uint64_t index, uint64_t term, std::vector<raft::NodeId> voters, std::vector<raft::NodeId> outgoing,
         std::vector<raft::NodeId> learners) {
        raft::SnapshotMeta meta;
        meta.index = raft::Index(index);
        meta.term = raft::Term(term);
        // A valid configuration (the codec refuses others): some voter, and
        // no learner that also votes.
        if (voters.empty()) voters.push_back(raft::NodeId(1));
        std::erase_if(learners, [&](raft::NodeId id) {
          return std::binary_search(voters.begin(), voters.end(), id) ||
                 std::binary_search(outgoing.begin(), outgoing.end(), id);
        });
        meta.configuration.voters = raft::MajorityConfig(std::move(voters));
        meta.configuration.outgoing_voters = raft::MajorityConfig(std::move(outgoing));
        meta.configuration.learners = std::move(learners);
        return meta;
      },
      gen_u64(), gen_u64(), gen_sorted_ids(), gen_sorted_ids(), gen_sorted_ids());
}

// Normal, no-op and configuration entries (the latter with a valid
// configuration from gen_meta(), as only those encode).
inline rc::Gen<raft::LogEntry> gen_entry() {
  return rc::gen::apply(
      [](uint64_t term, uint64_t index, int kind, std::string payload, raft::SnapshotMeta meta) {
        raft::LogEntry e{raft::Term(term), raft::Index(index), static_cast<raft::EntryType>(kind),
                         std::move(payload)};
        if (e.type == raft::EntryType::kConfiguration) {
          e.payload.clear();
          e.configuration = std::move(meta.configuration);
        }
        return e;
      },
      gen_u64(), gen_u64(), rc::gen::inRange(0, 3), gen_bytes(), gen_meta());
}

inline rc::Gen<raft::MessageBody> gen_core_body() {
  using namespace raft;
  auto as_body = [](auto gen) {
    return rc::gen::map(std::move(gen), [](auto body) { return MessageBody(std::move(body)); });
  };
  return rc::gen::oneOf(
      as_body(rc::gen::apply(
          [](uint64_t prev_index, uint64_t prev_term, std::vector<LogEntry> entries, uint64_t commit) {
            return AppendEntries{Index(prev_index), Term(prev_term), std::move(entries), Index(commit)};
          },
          gen_u64(), gen_u64(), rc::gen::resize(20, rc::gen::container<std::vector<LogEntry>>(gen_entry())),
          gen_u64())),
      as_body(rc::gen::apply(
          [](bool reject, uint64_t i, uint64_t hi, uint64_t ht) {
            return AppendResponse{reject, Index(i), Index(hi), Term(ht)};
          },
          rc::gen::arbitrary<bool>(), gen_u64(), gen_u64(), gen_u64())),
      as_body(rc::gen::apply(
          [](bool pre, bool transfer, uint64_t li, uint64_t lt) {
            return RequestVote{pre, transfer, Index(li), Term(lt)};
          },
          rc::gen::arbitrary<bool>(), rc::gen::arbitrary<bool>(), gen_u64(), gen_u64())),
      as_body(rc::gen::apply(
          [](bool pre, bool granted) {
            return VoteResponse{pre, granted};
          },
          rc::gen::arbitrary<bool>(), rc::gen::arbitrary<bool>())),
      as_body(rc::gen::apply(
          [](uint64_t commit, uint64_t round) {
            return Heartbeat{Index(commit), round};
          },
          gen_u64(), gen_u64())),
      as_body(rc::gen::map(gen_u64(), [](uint64_t round) { return HeartbeatResponse{round}; })),
      as_body(rc::gen::map(gen_meta(), [](SnapshotMeta meta) { return InstallSnapshot{std::move(meta)}; })),
      as_body(rc::gen::just(TimeoutNow{})),
      as_body(rc::gen::map(gen_u64(), [](uint64_t id) { return ReadIndexRequest{ReadId(id)}; })),
      as_body(rc::gen::apply(
          [](uint64_t id, bool ok, uint64_t index) {
            return ReadIndexResponse{ReadId(id), ok, Index(index)};
          },
          gen_u64(), rc::gen::arbitrary<bool>(), gen_u64())));
}

inline rc::Gen<raft::RequestKind> gen_request_kind() {
  return rc::gen::map(rc::gen::inRange<int>(0, 6), [](int k) { return static_cast<raft::RequestKind>(k); });
}

inline rc::Gen<absl::StatusCode> gen_status_code() {
  return rc::gen::map(rc::gen::inRange<int>(0, 17), [](int c) { return static_cast<absl::StatusCode>(c); });
}

// The body of a message from `from` to `to` (core messages carry them too).
inline rc::Gen<raft::NodeMessageBody> gen_node_body(raft::NodeId from, raft::NodeId to) {
  using namespace raft;
  auto as_body = [](auto gen) {
    return rc::gen::map(std::move(gen), [](auto body) { return NodeMessageBody(std::move(body)); });
  };
  return rc::gen::weightedOneOf<NodeMessageBody>(
      {{10, as_body(rc::gen::apply(
                [from, to](uint64_t term, MessageBody body) {
                  return Message{from, to, Term(term), std::move(body)};
                },
                gen_u64(), gen_core_body()))},
       {1, as_body(rc::gen::apply(
               [](uint64_t term, SnapshotMeta meta, uint64_t offset, uint64_t total, std::string data,
                  bool last) {
                 return SnapshotChunk{Term(term), std::move(meta), offset, total, std::move(data), last};
               },
               gen_u64(), gen_meta(), gen_u64(), gen_u64(), gen_bytes(), rc::gen::arbitrary<bool>()))},
       {1, as_body(
               rc::gen::apply(
                   [](uint64_t term, uint64_t index, uint64_t next, bool done, bool abort) {
                     return SnapshotChunkAck{Term(term), Index(index), next, done, abort};
                   },
                   gen_u64(), gen_u64(), gen_u64(), rc::gen::arbitrary<bool>(), rc::gen::arbitrary<bool>()))},
       {1, as_body(
               rc::gen::apply(
                   [](uint64_t id, RequestKind kind, std::string payload, uint64_t min_applied,
                      std::vector<std::pair<int, uint64_t>> steps) {
                     std::vector<MembershipChange> membership;
                     if (kind == RequestKind::kMembershipChange) {
                       for (const auto& [op, node] : steps) {
                         membership.push_back({static_cast<MembershipOp>(op), NodeId(node)});
                       }
                     }
                     return ForwardedRequest{id, kind, std::move(payload), Index(min_applied), std::move(membership)};
                   },
                   gen_u64(), gen_request_kind(), gen_bytes(), gen_u64(),
                   rc::gen::resize(4, rc::gen::container<std::vector<std::pair<int, uint64_t>>>(
                                          rc::gen::pair(rc::gen::inRange(0, 3), gen_u64())))))},
       {1, as_body(
               rc::gen::apply(
                   [](uint64_t id, absl::StatusCode code, std::string error, bool has_hint, NodeId hint,
                      std::string response, uint64_t applied) {
                     return ForwardedReply{id,
                                           code,
                                           std::move(error),
                                           has_hint ? std::optional<NodeId>(hint) : std::nullopt,
                                           std::move(response),
                                           Index(applied)};
                   },
                   gen_u64(), gen_status_code(), gen_bytes(), rc::gen::arbitrary<bool>(),
                   // Any value, 0 included: the wire carries a hint as it is.
                   rc::gen::map(rc::gen::arbitrary<uint64_t>(), [](uint64_t v) { return NodeId(v); }),
                   gen_bytes(), gen_u64()))}});
}

inline rc::Gen<raft::NodeMessage> gen_node_message() {
  return rc::gen::mapcat(
      rc::gen::pair(gen_node_id(), gen_node_id()), [](std::pair<raft::NodeId, raft::NodeId> ids) {
        return rc::gen::map(gen_node_body(ids.first, ids.second), [ids](raft::NodeMessageBody body) {
          return raft::NodeMessage{ids.first, ids.second, std::move(body)};
        });
      });
}

}  // namespace reef::transport::testing
