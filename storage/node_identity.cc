#include "storage/node_identity.h"

#include "absl/strings/str_cat.h"
#include "encoding/little_endian.h"
#include "raft/core/assert.h"
#include "storage/small_record_file.h"

namespace reef::storage {
namespace {

constexpr SmallRecordKind kIdentityRecord{0x44494652, 1, "node identity"};  // "RFID"
constexpr size_t kFixedBodyBytes = 26;

std::string identity_path(const std::string& dir) { return join_path(dir, kNodeIdentityFileName); }

std::string encode_body(const NodeIdentity& identity) {
  REEF_ASSERT(identity.node_id.value() != 0 && identity.incarnation != 0, "incomplete node identity");
  REEF_ASSERT(!identity.cluster_name.empty() && identity.cluster_name.size() <= kMaxClusterNameBytes,
              "cluster name length out of range");
  std::string body(kFixedBodyBytes, '\0');
  char* p = body.data();
  encoding::put_u64(p, identity.cluster_id);
  encoding::put_u64(p + 8, identity.node_id.value());
  encoding::put_u64(p + 16, identity.incarnation);
  encoding::put_u16(p + 24, static_cast<uint16_t>(identity.cluster_name.size()));
  body += identity.cluster_name;
  return body;
}

absl::StatusOr<NodeIdentity> decode_body(const std::string& path, const std::string& body) {
  auto damaged = [&](absl::string_view problem) {
    return absl::DataLossError(absl::StrCat(path, ": damaged node identity file: ", problem));
  };
  if (body.size() < kFixedBodyBytes) return damaged(absl::StrCat("body of ", body.size(), " bytes is too short"));
  const char* p = body.data();
  NodeIdentity identity;
  identity.cluster_id = encoding::get_u64(p);
  identity.node_id = raft::NodeId(encoding::get_u64(p + 8));
  identity.incarnation = encoding::get_u64(p + 16);
  const size_t name_len = encoding::get_u16(p + 24);
  if (name_len == 0 || name_len > kMaxClusterNameBytes || kFixedBodyBytes + name_len != body.size()) {
    return damaged(absl::StrCat("cluster name length ", name_len, " does not fit the body of ", body.size(),
                                " bytes"));
  }
  if (identity.node_id.value() == 0) return damaged("node id 0");
  if (identity.incarnation == 0) return damaged("incarnation 0");
  identity.cluster_name = body.substr(kFixedBodyBytes);
  return identity;
}

}  // namespace

std::string describe(const NodeIdentity& identity) {
  return absl::StrCat("node ", identity.node_id.value(), " of cluster '", identity.cluster_name,
                      "' (incarnation ", absl::Hex(identity.incarnation, absl::kZeroPad16), ")");
}

std::string encode_node_identity_file(const NodeIdentity& identity) {
  return encode_small_record(kIdentityRecord, encode_body(identity));
}

absl::StatusOr<std::optional<NodeIdentity>> read_node_identity(FileSystem& fs, const std::string& dir) {
  const std::string path = identity_path(dir);
  absl::StatusOr<std::optional<std::string>> body = read_small_record(fs, path, kIdentityRecord);
  if (!body.ok()) return body.status();
  if (!body->has_value()) return std::optional<NodeIdentity>();
  absl::StatusOr<NodeIdentity> identity = decode_body(path, **body);
  if (!identity.ok()) return identity.status();
  return std::optional<NodeIdentity>(*std::move(identity));
}

absl::Status write_node_identity(FileSystem& fs, const std::string& dir, const NodeIdentity& identity) {
  return write_small_record(fs, identity_path(dir), kIdentityRecord, encode_body(identity));
}

absl::Status check_node_identity(const std::string& dir, const NodeIdentity& remembered, const IdentityClaim& claim) {
  if (remembered.node_id == claim.node_id && remembered.cluster_name == claim.cluster_name &&
      remembered.cluster_id == claim.cluster_id) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "data directory ", dir, " belongs to node ", remembered.node_id.value(), " of cluster '",
      remembered.cluster_name, "' (", identity_path(dir), "), but this server was started as node ",
      claim.node_id.value(), " of cluster '", claim.cluster_name, "'; start it with --node-id ",
      remembered.node_id.value(), " --cluster-name ", remembered.cluster_name,
      ", or give node ", claim.node_id.value(), " a data directory of its own"));
}

absl::StatusOr<NodeIdentity> establish_node_identity(FileSystem& fs, const std::string& dir,
                                                     const IdentityClaim& claim, bool holds_raft_state,
                                                     std::vector<std::string>& notes) {
  REEF_ASSERT(claim.fresh_incarnation != 0, "incarnation 0 means unknown");
  absl::StatusOr<std::optional<NodeIdentity>> remembered = read_node_identity(fs, dir);
  if (!remembered.ok()) return remembered.status();
  if (remembered->has_value()) {
    if (absl::Status s = check_node_identity(dir, **remembered, claim); !s.ok()) return s;
    return **remembered;
  }
  const NodeIdentity identity{claim.cluster_id, claim.cluster_name, claim.node_id, claim.fresh_incarnation};
  if (absl::Status s = write_node_identity(fs, dir, identity); !s.ok()) return s;
  if (holds_raft_state) {
    notes.push_back(absl::StrCat(identity_path(dir),
                                 ": missing in a directory that holds Raft state (written before node "
                                 "identities existed); adopted it as ",
                                 describe(identity)));
  }
  return identity;
}

}  // namespace reef::storage
