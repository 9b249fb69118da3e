// One NodeMessage of every kind (each core Message body and each driver
// message), with non-default values in every field, for tests that must
// cover the whole wire vocabulary.
#pragma once

#include <string>
#include <vector>

#include "raft/ports/node_message.h"

namespace reef::transport::testing {

inline raft::SnapshotMeta sample_meta() {
  raft::SnapshotMeta meta;
  meta.index = raft::Index(120);
  meta.term = raft::Term(7);
  meta.configuration.voters = raft::MajorityConfig({raft::NodeId(1), raft::NodeId(2), raft::NodeId(3)});
  meta.configuration.outgoing_voters = raft::MajorityConfig({raft::NodeId(1), raft::NodeId(4)});
  meta.configuration.learners = {raft::NodeId(9)};
  return meta;
}

// Fourteen messages from `from` to `to`: the ten core bodies, then
// SnapshotChunk, SnapshotChunkAck, ForwardedRequest, ForwardedReply.
inline std::vector<raft::NodeMessage> one_message_of_each_kind(raft::NodeId from, raft::NodeId to) {
  using namespace raft;
  const Term term(7);
  auto core = [&](MessageBody body) {
    return NodeMessage{from, to, Message{from, to, term, std::move(body)}};
  };
  std::vector<NodeMessage> out;
  out.push_back(
      core(AppendEntries{Index(10),
                         Term(6),
                         {LogEntry{Term(6), Index(11), EntryType::kNormal, std::string("insert\0x", 8)},
                          LogEntry{Term(7), Index(12), EntryType::kNoop, ""}},
                         Index(11)}));
  out.push_back(core(AppendResponse{true, Index(10), Index(8), Term(5)}));
  out.push_back(core(RequestVote{true, true, Index(12), Term(7)}));
  out.push_back(core(VoteResponse{true, true}));
  out.push_back(core(Heartbeat{Index(11), 42}));
  out.push_back(core(HeartbeatResponse{42}));
  out.push_back(core(InstallSnapshot{sample_meta()}));
  out.push_back(core(TimeoutNow{}));
  out.push_back(core(ReadIndexRequest{ReadId(77)}));
  out.push_back(core(ReadIndexResponse{ReadId(77), true, Index(12)}));
  out.push_back(
      NodeMessage{from, to, SnapshotChunk{term, sample_meta(), 4096, 10000, std::string(300, 's'), true}});
  out.push_back(NodeMessage{from, to, SnapshotChunkAck{term, Index(120), 4396, true, false}});
  out.push_back(
      NodeMessage{from, to, ForwardedRequest{5, RequestKind::kReadLinearizable, "SELECT 1", Index(3)}});
  out.push_back(NodeMessage{from, to,
                            ForwardedReply{5, absl::StatusCode::kFailedPrecondition, "not leader", NodeId(3),
                                           "response bytes", Index(12)}});
  return out;
}

}  // namespace reef::transport::testing
