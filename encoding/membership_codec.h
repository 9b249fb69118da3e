// The one encoder and decoder between raft::Configuration / raft::SnapshotMeta
// and their FlatBuffers tables (encoding/membership.fbs), used by every
// format that carries them: the wire (transport/message_codec.cc), snapshot
// files (storage/snapshot_store.cc) and the state machine's snapshot stream
// (statemachine/snapshot_stream.cc).
//
// Decoding trusts nothing beyond what the FlatBuffers Verifier already
// checked: node id lists must be strictly ascending and free of 0, read
// without assuming the elements are aligned (a crafted buffer may misalign
// them), and the configuration must pass raft::Configuration::validate(), so
// input from a disk or a peer never reaches an assertion. Errors are
// INVALID_ARGUMENT saying what is wrong, without a prefix: callers say where.
//
// Encoding is deterministic; each function builds its vectors and tables in
// the order the formats have always used, so the bytes never change.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "flatbuffers/flatbuffers.h"
#include "membership_generated.h"
#include "raft/core/log_entry.h"
#include "raft/core/membership.h"
#include "raft/core/state.h"

namespace reef::encoding {

using IdVector = flatbuffers::Vector<uint64_t>;

// The three id lists of a configuration, for tables that hold them inline.
struct ConfigurationVectors {
  flatbuffers::Offset<IdVector> voters;
  flatbuffers::Offset<IdVector> outgoing_voters;
  flatbuffers::Offset<IdVector> learners;
};

ConfigurationVectors encode_configuration_vectors(flatbuffers::FlatBufferBuilder& builder,
                                                  const raft::Configuration& configuration);
// Lists absent from a table (nullptr) are empty.
absl::StatusOr<raft::Configuration> decode_configuration_vectors(const IdVector* voters,
                                                                 const IdVector* outgoing_voters,
                                                                 const IdVector* learners);

// A configuration as a table inside another (a log entry on disk and on
// the wire).
flatbuffers::Offset<fbs::ConfigurationRecord> encode_configuration(flatbuffers::FlatBufferBuilder& builder,
                                                                   const raft::Configuration& configuration);
// `record` must have passed the Verifier (as part of its buffer).
absl::StatusOr<raft::Configuration> decode_configuration(const fbs::ConfigurationRecord* record);

// A log entry's type byte and optional configuration table, as the log on
// disk and the wire both carry them: the type must be one the core knows,
// and a configuration entry carries a configuration that no other entry
// has, and that is valid. Nothing else of the entry differs between the two
// formats' checks. Sets entry.type and entry.configuration.
absl::Status decode_entry_kind(uint8_t type, const fbs::ConfigurationRecord* configuration, raft::LogEntry& entry);

// Snapshot meta as a table inside another (the wire).
flatbuffers::Offset<fbs::SnapshotMetaRecord> encode_snapshot_meta(flatbuffers::FlatBufferBuilder& builder,
                                                                  const raft::SnapshotMeta& meta);
// `record` must have passed the Verifier (as part of its buffer).
absl::StatusOr<raft::SnapshotMeta> decode_snapshot_meta(const fbs::SnapshotMetaRecord* record);

// Snapshot meta as a buffer of its own (a snapshot file's header meta,
// file identifier "RSNM"); the decoder verifies the buffer first.
inline constexpr char kSnapshotFileMetaIdentifier[] = "RSNM";
std::string encode_snapshot_file_meta(const raft::SnapshotMeta& meta);
absl::StatusOr<raft::SnapshotMeta> decode_snapshot_file_meta(absl::string_view bytes);

}  // namespace reef::encoding
