#include "encoding/membership_codec.h"

#include <cstring>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace reef::encoding {
namespace {

flatbuffers::Offset<IdVector> encode_ids(flatbuffers::FlatBufferBuilder& builder,
                                         const std::vector<raft::NodeId>& nodes) {
  std::vector<uint64_t> values;
  values.reserve(nodes.size());
  for (raft::NodeId id : nodes) values.push_back(id.value());
  return builder.CreateVector(values);
}

// Read with memcpy: the verifier checks the alignment of a vector's length
// field only, and a crafted buffer may put 64-bit elements off their
// alignment, where the generated accessor's plain load is undefined.
absl::StatusOr<std::vector<raft::NodeId>> decode_ids(const IdVector* vector, absl::string_view what) {
  std::vector<raft::NodeId> out;
  if (vector == nullptr) return out;
  out.reserve(vector->size());
  for (flatbuffers::uoffset_t i = 0; i < vector->size(); ++i) {
    uint64_t value = 0;
    std::memcpy(&value, vector->Data() + i * sizeof(uint64_t), sizeof(uint64_t));
    value = flatbuffers::EndianScalar(value);
    if (value == 0) return absl::InvalidArgumentError(absl::StrCat(what, " contain node id 0"));
    if (!out.empty() && value <= out.back().value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " are not strictly ascending (", out.back().value(), " then ", value, ")"));
    }
    out.emplace_back(value);
  }
  return out;
}

absl::StatusOr<raft::SnapshotMeta> make_meta(uint64_t index, uint64_t term, const IdVector* voters,
                                             const IdVector* outgoing_voters, const IdVector* learners) {
  absl::StatusOr<raft::Configuration> configuration =
      decode_configuration_vectors(voters, outgoing_voters, learners);
  if (!configuration.ok()) return configuration.status();
  return raft::SnapshotMeta{raft::Index(index), raft::Term(term), *std::move(configuration)};
}

}  // namespace

ConfigurationVectors encode_configuration_vectors(flatbuffers::FlatBufferBuilder& builder,
                                                  const raft::Configuration& configuration) {
  ConfigurationVectors vectors;
  vectors.voters = encode_ids(builder, configuration.voters.voters());
  vectors.outgoing_voters = encode_ids(builder, configuration.outgoing_voters.voters());
  vectors.learners = encode_ids(builder, configuration.learners);
  return vectors;
}

absl::StatusOr<raft::Configuration> decode_configuration_vectors(const IdVector* voters,
                                                                 const IdVector* outgoing_voters,
                                                                 const IdVector* learners) {
  absl::StatusOr<std::vector<raft::NodeId>> in = decode_ids(voters, "voters");
  if (!in.ok()) return in.status();
  absl::StatusOr<std::vector<raft::NodeId>> out = decode_ids(outgoing_voters, "outgoing voters");
  if (!out.ok()) return out.status();
  absl::StatusOr<std::vector<raft::NodeId>> learning = decode_ids(learners, "learners");
  if (!learning.ok()) return learning.status();
  raft::Configuration configuration;
  configuration.voters = raft::MajorityConfig(*std::move(in));
  configuration.outgoing_voters = raft::MajorityConfig(*std::move(out));
  configuration.learners = *std::move(learning);
  // A configuration the core would reject (a learner that also votes, ...)
  // is refused here, as INVALID_ARGUMENT.
  if (absl::Status s = configuration.validate(); !s.ok()) return absl::InvalidArgumentError(s.message());
  return configuration;
}

flatbuffers::Offset<fbs::ConfigurationRecord> encode_configuration(flatbuffers::FlatBufferBuilder& builder,
                                                                   const raft::Configuration& configuration) {
  const ConfigurationVectors v = encode_configuration_vectors(builder, configuration);
  return fbs::CreateConfigurationRecord(builder, v.voters, v.outgoing_voters, v.learners);
}

absl::StatusOr<raft::Configuration> decode_configuration(const fbs::ConfigurationRecord* record) {
  if (record == nullptr) return absl::InvalidArgumentError("configuration missing");
  return decode_configuration_vectors(record->voters(), record->outgoing_voters(), record->learners());
}

absl::Status decode_entry_kind(uint8_t type, const fbs::ConfigurationRecord* configuration, raft::LogEntry& entry) {
  if (type > static_cast<uint8_t>(raft::EntryType::kConfiguration)) {
    return absl::InvalidArgumentError(absl::StrCat("unknown entry type ", type));
  }
  entry.type = static_cast<raft::EntryType>(type);
  entry.configuration.reset();
  if ((entry.type == raft::EntryType::kConfiguration) != (configuration != nullptr)) {
    return absl::InvalidArgumentError(entry.type == raft::EntryType::kConfiguration
                                          ? "configuration entry without a configuration"
                                          : "a configuration on an entry that is not a configuration entry");
  }
  if (configuration == nullptr) return absl::OkStatus();
  absl::StatusOr<raft::Configuration> decoded = decode_configuration(configuration);
  if (!decoded.ok()) return absl::InvalidArgumentError(absl::StrCat("configuration entry: ", decoded.status().message()));
  entry.configuration = *std::move(decoded);
  return absl::OkStatus();
}

flatbuffers::Offset<fbs::SnapshotMetaRecord> encode_snapshot_meta(flatbuffers::FlatBufferBuilder& builder,
                                                                  const raft::SnapshotMeta& meta) {
  auto configuration = encode_configuration(builder, meta.configuration);
  return fbs::CreateSnapshotMetaRecord(builder, meta.index.value(), meta.term.value(), configuration);
}

absl::StatusOr<raft::SnapshotMeta> decode_snapshot_meta(const fbs::SnapshotMetaRecord* record) {
  // Both are `required` in the schema, so the verifier already refused a
  // missing one; checked again because nothing here may dereference null.
  if (record == nullptr) return absl::InvalidArgumentError("snapshot meta missing");
  const fbs::ConfigurationRecord* c = record->configuration();
  if (c == nullptr) return absl::InvalidArgumentError("snapshot meta without configuration");
  return make_meta(record->index(), record->term(), c->voters(), c->outgoing_voters(), c->learners());
}

std::string encode_snapshot_file_meta(const raft::SnapshotMeta& meta) {
  flatbuffers::FlatBufferBuilder builder(256);
  const ConfigurationVectors v = encode_configuration_vectors(builder, meta.configuration);
  auto root = fbs::CreateSnapshotFileMetaRecord(builder, meta.index.value(), meta.term.value(), v.voters,
                                                v.outgoing_voters, v.learners);
  builder.Finish(root, kSnapshotFileMetaIdentifier);
  return std::string(reinterpret_cast<const char*>(builder.GetBufferPointer()), builder.GetSize());
}

absl::StatusOr<raft::SnapshotMeta> decode_snapshot_file_meta(absl::string_view bytes) {
  // Copied into heap memory so the verifier's alignment checks see the
  // alignment the buffer was built with.
  const std::vector<uint8_t> buffer(bytes.begin(), bytes.end());
  flatbuffers::Verifier verifier(buffer.data(), buffer.size());
  if (!verifier.VerifyBuffer<fbs::SnapshotFileMetaRecord>(kSnapshotFileMetaIdentifier)) {
    return absl::InvalidArgumentError("not a valid SnapshotMetaRecord buffer");
  }
  const auto* record = flatbuffers::GetRoot<fbs::SnapshotFileMetaRecord>(buffer.data());
  return make_meta(record->index(), record->term(), record->voters(), record->outgoing_voters(),
                   record->learners());
}

}  // namespace reef::encoding
