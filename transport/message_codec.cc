#include "transport/message_codec.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "encoding/membership_codec.h"
#include "raft/core/assert.h"
#include "wire_generated.h"

namespace reef::transport {
namespace {

using Builder = flatbuffers::FlatBufferBuilder;
template <typename T>
using Offset = flatbuffers::Offset<T>;
using ByteVector = flatbuffers::Vector<uint8_t>;

// Every Envelope we build is larger: root offset, identifier, vtable, table.
constexpr size_t kMinEnvelopeBytes = 16;

// ---------------------------------------------------------------- encoding

Offset<ByteVector> encode_bytes(Builder& b, const std::string& s) {
  return b.CreateVector(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

Offset<fbs::LogEntryRecord> encode_entry(Builder& b, const raft::LogEntry& e) {
  auto payload = encode_bytes(b, e.payload);
  Offset<encoding::fbs::ConfigurationRecord> configuration;
  if (e.configuration) configuration = encoding::encode_configuration(b, *e.configuration);
  return fbs::CreateLogEntryRecord(b, e.term.value(), e.index.value(), static_cast<uint8_t>(e.type), payload,
                                   configuration);
}

// Each overload builds one union member and names its type.
template <typename Union>
struct Encoded {
  Union type;
  Offset<void> value;
};

struct CoreBodyEncoder {
  Builder& b;
  using Out = Encoded<fbs::CoreBody>;

  Out operator()(const raft::AppendEntries& m) const {
    std::vector<Offset<fbs::LogEntryRecord>> entries;
    entries.reserve(m.entries.size());
    for (const raft::LogEntry& e : m.entries) entries.push_back(encode_entry(b, e));
    auto vector = b.CreateVector(entries);
    return {fbs::CoreBody::AppendEntries,
            fbs::CreateAppendEntries(b, m.prev_index.value(), m.prev_term.value(), vector, m.commit.value())
                .Union()};
  }
  Out operator()(const raft::AppendResponse& m) const {
    return {fbs::CoreBody::AppendResponse,
            fbs::CreateAppendResponse(b, m.reject, m.index.value(), m.hint_index.value(), m.hint_term.value())
                .Union()};
  }
  Out operator()(const raft::RequestVote& m) const {
    return {
        fbs::CoreBody::RequestVote,
        fbs::CreateRequestVote(b, m.pre_vote, m.transfer, m.last_index.value(), m.last_term.value()).Union()};
  }
  Out operator()(const raft::VoteResponse& m) const {
    return {fbs::CoreBody::VoteResponse, fbs::CreateVoteResponse(b, m.pre_vote, m.granted).Union()};
  }
  Out operator()(const raft::Heartbeat& m) const {
    return {fbs::CoreBody::Heartbeat, fbs::CreateHeartbeat(b, m.commit.value(), m.round).Union()};
  }
  Out operator()(const raft::HeartbeatResponse& m) const {
    return {fbs::CoreBody::HeartbeatResponse, fbs::CreateHeartbeatResponse(b, m.round).Union()};
  }
  Out operator()(const raft::InstallSnapshot& m) const {
    auto meta = encoding::encode_snapshot_meta(b, m.meta);
    return {fbs::CoreBody::InstallSnapshot, fbs::CreateInstallSnapshot(b, meta).Union()};
  }
  Out operator()(const raft::TimeoutNow&) const {
    return {fbs::CoreBody::TimeoutNow, fbs::CreateTimeoutNow(b).Union()};
  }
  Out operator()(const raft::ReadIndexRequest& m) const {
    return {fbs::CoreBody::ReadIndexRequest, fbs::CreateReadIndexRequest(b, m.id.value()).Union()};
  }
  Out operator()(const raft::ReadIndexResponse& m) const {
    return {fbs::CoreBody::ReadIndexResponse,
            fbs::CreateReadIndexResponse(b, m.id.value(), m.ok, m.index.value()).Union()};
  }
};

struct BodyEncoder {
  Builder& b;
  const raft::NodeMessage& envelope;
  using Out = Encoded<fbs::Body>;

  Out operator()(const raft::Message& m) const {
    REEF_ASSERT(m.from == envelope.from && m.to == envelope.to, "core message ", m.from.value(), "->",
                m.to.value(), " inside envelope ", envelope.from.value(), "->", envelope.to.value());
    const Encoded<fbs::CoreBody> body = std::visit(CoreBodyEncoder{b}, m.body);
    return {fbs::Body::CoreMessage, fbs::CreateCoreMessage(b, m.term.value(), body.type, body.value).Union()};
  }
  Out operator()(const raft::SnapshotChunk& m) const {
    auto meta = encoding::encode_snapshot_meta(b, m.meta);
    auto data = encode_bytes(b, m.data);
    return {fbs::Body::SnapshotChunk,
            fbs::CreateSnapshotChunk(b, m.term.value(), meta, m.offset, m.total_bytes, data, m.last).Union()};
  }
  Out operator()(const raft::SnapshotChunkAck& m) const {
    return {fbs::Body::SnapshotChunkAck,
            fbs::CreateSnapshotChunkAck(b, m.term.value(), m.snapshot_index.value(), m.next_offset, m.done,
                                        m.abort)
                .Union()};
  }
  Out operator()(const raft::ForwardedRequest& m) const {
    auto payload = encode_bytes(b, m.payload);
    Offset<flatbuffers::Vector<Offset<fbs::MembershipChangeRecord>>> membership;
    if (!m.membership.empty()) {
      std::vector<Offset<fbs::MembershipChangeRecord>> changes;
      for (const raft::MembershipChange& c : m.membership) {
        changes.push_back(fbs::CreateMembershipChangeRecord(b, static_cast<uint8_t>(c.op), c.node.value()));
      }
      membership = b.CreateVector(changes);
    }
    return {fbs::Body::ForwardedRequest,
            fbs::CreateForwardedRequest(b, m.request_id, static_cast<uint8_t>(m.kind), payload,
                                        m.min_applied.value(), membership)
                .Union()};
  }
  Out operator()(const raft::ForwardedReply& m) const {
    auto error = encode_bytes(b, m.error);
    auto response = encode_bytes(b, m.response);
    flatbuffers::Optional<uint64_t> hint = flatbuffers::nullopt;
    if (m.leader_hint) hint = m.leader_hint->value();
    return {fbs::Body::ForwardedReply,
            fbs::CreateForwardedReply(b, m.request_id, static_cast<uint8_t>(m.code), error, hint, response,
                                      m.applied.value())
                .Union()};
  }
};

// ---------------------------------------------------------------- decoding

absl::Status invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("wire message: ", what));
}

// Decodes the tables of one verified Envelope. FlatBuffers lets tables and
// vectors be shared, so a small buffer could name one large payload a million
// times; the budget caps the bytes copied out at the size of the buffer,
// which every buffer we encode respects (nothing is shared).
class Decoder {
 public:
  explicit Decoder(size_t buffer_bytes) : budget_bytes_(buffer_bytes) {}

  absl::StatusOr<raft::NodeMessageBody> body(const fbs::Envelope& envelope);

 private:
  absl::StatusOr<std::string> bytes(const ByteVector* vector, absl::string_view what);
  absl::StatusOr<raft::SnapshotMeta> meta(const encoding::fbs::SnapshotMetaRecord* record);
  absl::StatusOr<raft::LogEntry> entry(const fbs::LogEntryRecord& record);
  absl::StatusOr<raft::Message> core_message(const fbs::CoreMessage& message);
  absl::StatusOr<raft::MessageBody> core_body(const fbs::CoreMessage& message);
  absl::StatusOr<raft::MessageBody> append_entries(const fbs::AppendEntries& m);
  absl::StatusOr<raft::SnapshotChunk> snapshot_chunk(const fbs::SnapshotChunk& m);
  absl::StatusOr<raft::ForwardedRequest> forwarded_request(const fbs::ForwardedRequest& m);
  absl::StatusOr<raft::ForwardedReply> forwarded_reply(const fbs::ForwardedReply& m);

  size_t budget_bytes_;
};

absl::StatusOr<std::string> Decoder::bytes(const ByteVector* vector, absl::string_view what) {
  if (vector == nullptr) return std::string();
  if (vector->size() > budget_bytes_) {
    return invalid(absl::StrCat(what, ": byte fields add up to more than the buffer holds (shared vectors)"));
  }
  budget_bytes_ -= vector->size();
  return std::string(reinterpret_cast<const char*>(vector->data()), vector->size());
}

// The shared membership codec judges the ids and the configuration; its
// errors become wire-message errors here.
absl::StatusOr<raft::SnapshotMeta> Decoder::meta(const encoding::fbs::SnapshotMetaRecord* record) {
  absl::StatusOr<raft::SnapshotMeta> meta = encoding::decode_snapshot_meta(record);
  if (!meta.ok()) return invalid(meta.status().message());
  return meta;
}

absl::StatusOr<raft::LogEntry> Decoder::entry(const fbs::LogEntryRecord& record) {
  absl::StatusOr<std::string> payload = bytes(record.payload(), "log entry payload");
  if (!payload.ok()) return payload.status();
  raft::LogEntry entry{raft::Term(record.term()), raft::Index(record.index()), raft::EntryType::kNormal,
                       std::move(*payload)};
  if (absl::Status s = encoding::decode_entry_kind(record.type(), record.configuration(), entry); !s.ok()) {
    return invalid(absl::StrCat("log entry ", record.index(), ": ", s.message()));
  }
  return entry;
}

absl::StatusOr<raft::MessageBody> Decoder::append_entries(const fbs::AppendEntries& m) {
  raft::AppendEntries out;
  out.prev_index = raft::Index(m.prev_index());
  out.prev_term = raft::Term(m.prev_term());
  out.commit = raft::Index(m.commit());
  if (m.entries() != nullptr) {
    out.entries.reserve(m.entries()->size());
    for (const fbs::LogEntryRecord* record : *m.entries()) {
      if (record == nullptr) return invalid("null log entry");
      absl::StatusOr<raft::LogEntry> e = entry(*record);
      if (!e.ok()) return e.status();
      out.entries.push_back(std::move(*e));
    }
  }
  return raft::MessageBody(std::move(out));
}

// A union member whose type is set but whose table is absent passes the
// verifier; `table` is null then.
template <typename T>
absl::StatusOr<const T*> member(const T* table, absl::string_view name) {
  if (table == nullptr) return invalid(absl::StrCat(name, " body missing"));
  return table;
}

absl::StatusOr<raft::MessageBody> Decoder::core_body(const fbs::CoreMessage& message) {
  using T = fbs::CoreBody;
  switch (message.body_type()) {
    case T::NONE: return invalid("core message without a body");
    case T::AppendEntries: {
      auto m = member(message.body_as_AppendEntries(), "AppendEntries");
      if (!m.ok()) return m.status();
      return append_entries(**m);
    }
    case T::AppendResponse: {
      auto m = member(message.body_as_AppendResponse(), "AppendResponse");
      if (!m.ok()) return m.status();
      return raft::MessageBody(raft::AppendResponse{(*m)->reject(), raft::Index((*m)->index()),
                                                    raft::Index((*m)->hint_index()),
                                                    raft::Term((*m)->hint_term())});
    }
    case T::RequestVote: {
      auto m = member(message.body_as_RequestVote(), "RequestVote");
      if (!m.ok()) return m.status();
      return raft::MessageBody(raft::RequestVote{(*m)->pre_vote(), (*m)->transfer(),
                                                 raft::Index((*m)->last_index()),
                                                 raft::Term((*m)->last_term())});
    }
    case T::VoteResponse: {
      auto m = member(message.body_as_VoteResponse(), "VoteResponse");
      if (!m.ok()) return m.status();
      return raft::MessageBody(raft::VoteResponse{(*m)->pre_vote(), (*m)->granted()});
    }
    case T::Heartbeat: {
      auto m = member(message.body_as_Heartbeat(), "Heartbeat");
      if (!m.ok()) return m.status();
      return raft::MessageBody(raft::Heartbeat{raft::Index((*m)->commit()), (*m)->round()});
    }
    case T::HeartbeatResponse: {
      auto m = member(message.body_as_HeartbeatResponse(), "HeartbeatResponse");
      if (!m.ok()) return m.status();
      return raft::MessageBody(raft::HeartbeatResponse{(*m)->round()});
    }
    case T::InstallSnapshot: {
      auto m = member(message.body_as_InstallSnapshot(), "InstallSnapshot");
      if (!m.ok()) return m.status();
      absl::StatusOr<raft::SnapshotMeta> decoded = meta((*m)->meta());
      if (!decoded.ok()) return decoded.status();
      return raft::MessageBody(raft::InstallSnapshot{std::move(*decoded)});
    }
    case T::TimeoutNow: {
      auto m = member(message.body_as_TimeoutNow(), "TimeoutNow");
      if (!m.ok()) return m.status();
      return raft::MessageBody(raft::TimeoutNow{});
    }
    case T::ReadIndexRequest: {
      auto m = member(message.body_as_ReadIndexRequest(), "ReadIndexRequest");
      if (!m.ok()) return m.status();
      return raft::MessageBody(raft::ReadIndexRequest{raft::ReadId((*m)->id())});
    }
    case T::ReadIndexResponse: {
      auto m = member(message.body_as_ReadIndexResponse(), "ReadIndexResponse");
      if (!m.ok()) return m.status();
      return raft::MessageBody(
          raft::ReadIndexResponse{raft::ReadId((*m)->id()), (*m)->ok(), raft::Index((*m)->index())});
    }
  }
  return invalid(absl::StrCat("unknown core message type ", static_cast<int>(message.body_type())));
}

absl::StatusOr<raft::Message> Decoder::core_message(const fbs::CoreMessage& message) {
  absl::StatusOr<raft::MessageBody> body = core_body(message);
  if (!body.ok()) return body.status();
  // from and to are filled in from the envelope by the caller.
  return raft::Message{raft::NodeId(), raft::NodeId(), raft::Term(message.term()), std::move(*body)};
}

absl::StatusOr<raft::SnapshotChunk> Decoder::snapshot_chunk(const fbs::SnapshotChunk& m) {
  absl::StatusOr<raft::SnapshotMeta> decoded = meta(m.meta());
  if (!decoded.ok()) return decoded.status();
  absl::StatusOr<std::string> data = bytes(m.data(), "snapshot chunk data");
  if (!data.ok()) return data.status();
  return raft::SnapshotChunk{raft::Term(m.term()), std::move(*decoded), m.offset(),
                             m.total_bytes(),      std::move(*data),    m.last()};
}

absl::StatusOr<raft::ForwardedRequest> Decoder::forwarded_request(const fbs::ForwardedRequest& m) {
  if (m.kind() > static_cast<uint8_t>(raft::RequestKind::kMembershipChange)) {
    return invalid(absl::StrCat("forwarded request of unknown kind ", m.kind()));
  }
  absl::StatusOr<std::string> payload = bytes(m.payload(), "forwarded request payload");
  if (!payload.ok()) return payload.status();
  std::vector<raft::MembershipChange> membership;
  if (m.membership() != nullptr) {
    for (const fbs::MembershipChangeRecord* c : *m.membership()) {
      if (c == nullptr || c->op() > static_cast<uint8_t>(raft::MembershipOp::kRemove)) {
        return invalid("forwarded membership change with an unknown operation");
      }
      membership.push_back({static_cast<raft::MembershipOp>(c->op()), raft::NodeId(c->node())});
    }
  }
  return raft::ForwardedRequest{m.request_id(), static_cast<raft::RequestKind>(m.kind()), std::move(*payload),
                                raft::Index(m.min_applied()), std::move(membership)};
}

absl::StatusOr<raft::ForwardedReply> Decoder::forwarded_reply(const fbs::ForwardedReply& m) {
  if (m.code() > static_cast<uint8_t>(absl::StatusCode::kUnauthenticated)) {
    return invalid(absl::StrCat("forwarded reply with unknown status code ", m.code()));
  }
  absl::StatusOr<std::string> error = bytes(m.error(), "forwarded reply error");
  if (!error.ok()) return error.status();
  absl::StatusOr<std::string> response = bytes(m.response(), "forwarded reply response");
  if (!response.ok()) return response.status();
  raft::ForwardedReply out;
  out.request_id = m.request_id();
  out.code = static_cast<absl::StatusCode>(m.code());
  out.error = std::move(*error);
  if (m.leader_hint().has_value()) out.leader_hint = raft::NodeId(m.leader_hint().value());
  out.response = std::move(*response);
  out.applied = raft::Index(m.applied());
  return out;
}

// Converts one alternative's StatusOr into the NodeMessageBody variant.
template <typename T>
absl::StatusOr<raft::NodeMessageBody> as_body(absl::StatusOr<T> decoded) {
  if (!decoded.ok()) return decoded.status();
  return raft::NodeMessageBody(std::move(*decoded));
}

absl::StatusOr<raft::NodeMessageBody> Decoder::body(const fbs::Envelope& envelope) {
  using T = fbs::Body;
  switch (envelope.body_type()) {
    case T::NONE: return invalid("envelope without a body");
    case T::CoreMessage: {
      auto m = member(envelope.body_as_CoreMessage(), "CoreMessage");
      if (!m.ok()) return m.status();
      return as_body(core_message(**m));
    }
    case T::SnapshotChunk: {
      auto m = member(envelope.body_as_SnapshotChunk(), "SnapshotChunk");
      if (!m.ok()) return m.status();
      return as_body(snapshot_chunk(**m));
    }
    case T::SnapshotChunkAck: {
      auto m = member(envelope.body_as_SnapshotChunkAck(), "SnapshotChunkAck");
      if (!m.ok()) return m.status();
      return raft::NodeMessageBody(raft::SnapshotChunkAck{raft::Term((*m)->term()),
                                                          raft::Index((*m)->snapshot_index()),
                                                          (*m)->next_offset(), (*m)->done(), (*m)->abort()});
    }
    case T::ForwardedRequest: {
      auto m = member(envelope.body_as_ForwardedRequest(), "ForwardedRequest");
      if (!m.ok()) return m.status();
      return as_body(forwarded_request(**m));
    }
    case T::ForwardedReply: {
      auto m = member(envelope.body_as_ForwardedReply(), "ForwardedReply");
      if (!m.ok()) return m.status();
      return as_body(forwarded_reply(**m));
    }
  }
  return invalid(absl::StrCat("unknown message type ", static_cast<int>(envelope.body_type())));
}

// The verifier checks alignment relative to the buffer start, and the
// accessors then load scalars in place: the buffer must start as aligned as
// the builder made it (8 bytes for ulong fields). Copies only when needed.
class AlignedBytes {
 public:
  explicit AlignedBytes(absl::string_view bytes) {
    if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(uint64_t) == 0) {
      data_ = reinterpret_cast<const uint8_t*>(bytes.data());
    } else {
      copy_.resize((bytes.size() + sizeof(uint64_t) - 1) / sizeof(uint64_t));
      std::memcpy(copy_.data(), bytes.data(), bytes.size());
      data_ = reinterpret_cast<const uint8_t*>(copy_.data());
    }
  }
  const uint8_t* data() const { return data_; }

 private:
  std::vector<uint64_t> copy_;
  const uint8_t* data_ = nullptr;
};

absl::StatusOr<const fbs::Envelope*> verified_envelope(const uint8_t* data, size_t size) {
  if (size < kMinEnvelopeBytes) return invalid(absl::StrCat(size, " bytes are too short for an envelope"));
  if (size >= FLATBUFFERS_MAX_BUFFER_SIZE)
    return invalid(absl::StrCat(size, " bytes exceed the FlatBuffers limit"));
  if (!flatbuffers::BufferHasIdentifier(data, fbs::EnvelopeIdentifier())) {
    return invalid(
        absl::StrCat("not an envelope (file identifier is not \"", fbs::EnvelopeIdentifier(), "\")"));
  }
  flatbuffers::Verifier::Options options;
  // Every table takes at least 4 bytes, so a valid buffer has at most
  // size / 4 of them; the default cap (1e6) would refuse large appends.
  options.max_tables = static_cast<flatbuffers::uoffset_t>(std::max<size_t>(options.max_tables, size / 4));
  flatbuffers::Verifier verifier(data, size, options);
  if (!fbs::VerifyEnvelopeBuffer(verifier)) return invalid("FlatBuffers verification of the envelope failed");
  return fbs::GetEnvelope(data);
}

}  // namespace

std::string encode_message(uint64_t cluster_id, const raft::NodeMessage& message, uint64_t incarnation) {
  Builder b(256);
  const Encoded<fbs::Body> body = std::visit(BodyEncoder{b, message}, message.body);
  auto envelope = fbs::CreateEnvelope(b, cluster_id, message.from.value(), message.to.value(), body.type,
                                      body.value, incarnation);
  fbs::FinishEnvelopeBuffer(b, envelope);
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

absl::StatusOr<raft::NodeMessage> decode_message(absl::string_view bytes, uint64_t expected_cluster_id) {
  absl::StatusOr<ReceivedEnvelope> envelope = decode_envelope(bytes, expected_cluster_id);
  if (!envelope.ok()) return envelope.status();
  return std::move(envelope->message);
}

absl::StatusOr<ReceivedEnvelope> decode_envelope(absl::string_view bytes, uint64_t expected_cluster_id) {
  const AlignedBytes aligned(bytes);
  absl::StatusOr<const fbs::Envelope*> envelope = verified_envelope(aligned.data(), bytes.size());
  if (!envelope.ok()) return envelope.status();
  const fbs::Envelope& e = **envelope;
  if (e.cluster_id() != expected_cluster_id) {
    return absl::FailedPreconditionError(absl::StrCat("wire message: from cluster ", e.cluster_id(),
                                                      ", but this node belongs to cluster ",
                                                      expected_cluster_id));
  }
  if (e.from() == 0 || e.to() == 0) {
    return invalid(absl::StrCat("node id 0 is reserved (from ", e.from(), ", to ", e.to(), ")"));
  }
  Decoder decoder(bytes.size());
  absl::StatusOr<raft::NodeMessageBody> body = decoder.body(e);
  if (!body.ok()) return body.status();
  raft::NodeMessage out{raft::NodeId(e.from()), raft::NodeId(e.to()), std::move(*body)};
  if (auto* core = std::get_if<raft::Message>(&out.body)) {
    core->from = out.from;
    core->to = out.to;
  }
  return ReceivedEnvelope{std::move(out), e.incarnation()};
}

}  // namespace reef::transport
