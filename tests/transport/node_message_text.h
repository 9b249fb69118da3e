// A complete, readable text form of a raft::NodeMessage: every field of
// every alternative, byte strings escaped. The raft message structs have no
// operator==; tests compare these texts instead, which also makes a failed
// comparison show what differs.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "raft/ports/node_message.h"

namespace reef::transport::testing {

inline std::string bytes_text(const std::string& bytes) {
  return absl::StrCat("\"", absl::CHexEscape(bytes), "\"");
}

inline std::string ids_text(const std::vector<raft::NodeId>& ids) {
  return absl::StrCat(
      "[",
      absl::StrJoin(ids, ",", [](std::string* out, raft::NodeId id) { absl::StrAppend(out, id.value()); }),
      "]");
}

inline std::string meta_text(const raft::SnapshotMeta& m) {
  const raft::Configuration& c = m.configuration;
  return absl::StrCat("{index ", m.index.value(), " term ", m.term.value(), " voters ",
                      ids_text(c.voters.voters()), " outgoing ", ids_text(c.outgoing_voters.voters()),
                      " learners ", ids_text(c.learners), "}");
}

inline std::string entry_text(const raft::LogEntry& e) {
  return absl::StrCat("{term ", e.term.value(), " index ", e.index.value(), " type ",
                      static_cast<int>(e.type), " payload ", bytes_text(e.payload),
                      e.configuration ? " configuration " + e.configuration->describe() : "", "}");
}

struct MessageBodyText {
  std::string operator()(const raft::AppendEntries& m) const {
    std::string entries;
    for (const raft::LogEntry& e : m.entries) absl::StrAppend(&entries, entry_text(e));
    return absl::StrCat("AppendEntries{prev_index ", m.prev_index.value(), " prev_term ", m.prev_term.value(),
                        " commit ", m.commit.value(), " entries [", entries, "]}");
  }
  std::string operator()(const raft::AppendResponse& m) const {
    return absl::StrCat("AppendResponse{reject ", m.reject, " index ", m.index.value(), " hint_index ",
                        m.hint_index.value(), " hint_term ", m.hint_term.value(), "}");
  }
  std::string operator()(const raft::RequestVote& m) const {
    return absl::StrCat("RequestVote{pre_vote ", m.pre_vote, " transfer ", m.transfer, " last_index ",
                        m.last_index.value(), " last_term ", m.last_term.value(), "}");
  }
  std::string operator()(const raft::VoteResponse& m) const {
    return absl::StrCat("VoteResponse{pre_vote ", m.pre_vote, " granted ", m.granted, "}");
  }
  std::string operator()(const raft::Heartbeat& m) const {
    return absl::StrCat("Heartbeat{commit ", m.commit.value(), " round ", m.round, "}");
  }
  std::string operator()(const raft::HeartbeatResponse& m) const {
    return absl::StrCat("HeartbeatResponse{round ", m.round, "}");
  }
  std::string operator()(const raft::InstallSnapshot& m) const {
    return absl::StrCat("InstallSnapshot{", meta_text(m.meta), "}");
  }
  std::string operator()(const raft::TimeoutNow&) const { return "TimeoutNow{}"; }
  std::string operator()(const raft::ReadIndexRequest& m) const {
    return absl::StrCat("ReadIndexRequest{id ", m.id.value(), "}");
  }
  std::string operator()(const raft::ReadIndexResponse& m) const {
    return absl::StrCat("ReadIndexResponse{id ", m.id.value(), " ok ", m.ok, " index ", m.index.value(), "}");
  }
};

struct NodeMessageBodyText {
  std::string operator()(const raft::Message& m) const {
    return absl::StrCat("Message{from ", m.from.value(), " to ", m.to.value(), " term ", m.term.value(), " ",
                        std::visit(MessageBodyText{}, m.body), "}");
  }
  std::string operator()(const raft::SnapshotChunk& m) const {
    return absl::StrCat("SnapshotChunk{term ", m.term.value(), " meta ", meta_text(m.meta), " offset ",
                        m.offset, " total_bytes ", m.total_bytes, " data ", bytes_text(m.data), " last ",
                        m.last, "}");
  }
  std::string operator()(const raft::SnapshotChunkAck& m) const {
    return absl::StrCat("SnapshotChunkAck{term ", m.term.value(), " snapshot_index ",
                        m.snapshot_index.value(), " next_offset ", m.next_offset, " done ", m.done, " abort ",
                        m.abort, "}");
  }
  std::string operator()(const raft::ForwardedRequest& m) const {
    return absl::StrCat("ForwardedRequest{request_id ", m.request_id, " kind ", static_cast<int>(m.kind),
                        " payload ", bytes_text(m.payload), " min_applied ", m.min_applied.value(),
                        " membership [", raft::describe(m.membership), "]}");
  }
  std::string operator()(const raft::ForwardedReply& m) const {
    return absl::StrCat("ForwardedReply{request_id ", m.request_id, " code ", static_cast<int>(m.code),
                        " error ", bytes_text(m.error), " leader_hint ",
                        m.leader_hint ? absl::StrCat(m.leader_hint->value()) : std::string("none"),
                        " response ", bytes_text(m.response), " applied ", m.applied.value(), "}");
  }
};

inline std::string node_message_text(const raft::NodeMessage& m) {
  return absl::StrCat("NodeMessage{from ", m.from.value(), " to ", m.to.value(), " ",
                      std::visit(NodeMessageBodyText{}, m.body), "}");
}

}  // namespace reef::transport::testing
