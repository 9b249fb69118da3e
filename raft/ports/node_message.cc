#include "raft/ports/node_message.h"

#include "absl/strings/str_cat.h"

namespace reef::raft {

const char* node_message_type_name(const NodeMessageBody& body) {
  struct Namer {
    const char* operator()(const Message& m) const { return message_type_name(m.body); }
    const char* operator()(const SnapshotChunk&) const { return "SnapshotChunk"; }
    const char* operator()(const SnapshotChunkAck&) const { return "SnapshotChunkAck"; }
    const char* operator()(const ForwardedRequest&) const { return "ForwardedRequest"; }
    const char* operator()(const ForwardedReply&) const { return "ForwardedReply"; }
  };
  return std::visit(Namer{}, body);
}

namespace {

// The fields that explain a message in a trace, after its type name.
struct Details {
  std::string operator()(const AppendEntries& m) const {
    std::string out = absl::StrCat(" prev ", m.prev_index.value(), "@", m.prev_term.value());
    if (!m.entries.empty()) {
      absl::StrAppend(&out, " entries ", m.entries.front().index.value(), "..", m.entries.back().index.value());
    }
    absl::StrAppend(&out, " commit ", m.commit.value());
    return out;
  }
  std::string operator()(const AppendResponse& m) const {
    return m.reject ? absl::StrCat(" reject at ", m.index.value(), " hint ", m.hint_index.value(), "@",
                                   m.hint_term.value())
                    : absl::StrCat(" match ", m.index.value());
  }
  std::string operator()(const RequestVote& m) const {
    return absl::StrCat(m.pre_vote ? " pre" : "", m.transfer ? " transfer" : "", " last ", m.last_index.value(), "@",
                        m.last_term.value());
  }
  std::string operator()(const VoteResponse& m) const {
    return absl::StrCat(m.pre_vote ? " pre" : "", m.granted ? " granted" : " refused");
  }
  std::string operator()(const Heartbeat& m) const {
    return absl::StrCat(" commit ", m.commit.value(), " round ", m.round);
  }
  std::string operator()(const HeartbeatResponse& m) const { return absl::StrCat(" round ", m.round); }
  std::string operator()(const InstallSnapshot& m) const {
    return absl::StrCat(" last ", m.meta.index.value(), "@", m.meta.term.value());
  }
  std::string operator()(const TimeoutNow&) const { return ""; }
  std::string operator()(const ReadIndexRequest& m) const { return absl::StrCat(" read ", m.id.value()); }
  std::string operator()(const ReadIndexResponse& m) const {
    return absl::StrCat(" read ", m.id.value(), m.ok ? " index " : " failed", m.ok ? absl::StrCat(m.index.value()) : "");
  }
  std::string operator()(const Message& m) const {
    return absl::StrCat(" term ", m.term.value(), std::visit(*this, m.body));
  }
  std::string operator()(const SnapshotChunk& m) const {
    return absl::StrCat(" term ", m.term.value(), " snapshot ", m.meta.index.value(), " bytes ", m.offset, "+",
                        m.data.size(), "/", m.total_bytes, m.last ? " last" : "");
  }
  std::string operator()(const SnapshotChunkAck& m) const {
    return absl::StrCat(" term ", m.term.value(), " snapshot ", m.snapshot_index.value(), " next ", m.next_offset,
                        m.done ? " done" : "", m.abort ? " abort" : "");
  }
  std::string operator()(const ForwardedRequest& m) const {
    return absl::StrCat(" request ", m.request_id, " ", request_kind_name(m.kind));
  }
  std::string operator()(const ForwardedReply& m) const {
    return absl::StrCat(" request ", m.request_id, " ", absl::StatusCodeToString(m.code));
  }
};

}  // namespace

std::string describe(const NodeMessage& message) {
  return absl::StrCat(node_message_type_name(message.body), " ", message.from.value(), "->", message.to.value(),
                      std::visit(Details{}, message.body));
}

const char* request_kind_name(RequestKind kind) {
  switch (kind) {
    case RequestKind::kWrite: return "write";
    case RequestKind::kReadStrong: return "read-strong";
    case RequestKind::kReadLinearizable: return "read-linearizable";
    case RequestKind::kReadWeak: return "read-weak";
    case RequestKind::kReadNone: return "read-none";
    case RequestKind::kMembershipChange: return "membership-change";
  }
  return "unknown";
}

bool is_read(RequestKind kind) { return kind != RequestKind::kWrite && kind != RequestKind::kMembershipChange; }

bool served_by_leader_only(RequestKind kind) {
  return kind != RequestKind::kReadLinearizable && kind != RequestKind::kReadNone;
}

}  // namespace reef::raft
