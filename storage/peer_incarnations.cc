#include "storage/peer_incarnations.h"

#include "absl/strings/str_cat.h"
#include "encoding/little_endian.h"
#include "storage/small_record_file.h"

namespace reef::storage {
namespace {

constexpr SmallRecordKind kPeerIncarnationsRecord{0x49504652, 1, "peer incarnations"};  // "RFPI"
constexpr size_t kPairBytes = 16;

}  // namespace

absl::StatusOr<std::unique_ptr<PeerIncarnations>> PeerIncarnations::open(FileSystem& fs, std::string dir) {
  std::unique_ptr<PeerIncarnations> registry(new PeerIncarnations(fs, std::move(dir)));
  if (absl::Status s = registry->load(); !s.ok()) return s;
  return registry;
}

absl::Status PeerIncarnations::load() {
  absl::StatusOr<std::optional<std::string>> body = read_small_record(fs_, path_, kPeerIncarnationsRecord);
  if (!body.ok()) return body.status();
  if (!body->has_value()) return absl::OkStatus();
  const std::string& bytes = **body;
  const uint64_t count = bytes.size() < 4 ? 0 : encoding::get_u32(bytes.data());
  if (bytes.size() < 4 || bytes.size() != 4 + count * kPairBytes) {
    return absl::DataLossError(absl::StrCat(path_, ": damaged peer incarnations file: body of ", bytes.size(),
                                            " bytes does not hold ", count, " entries"));
  }
  for (uint64_t i = 0; i < count; ++i) {
    const char* p = bytes.data() + 4 + i * kPairBytes;
    const uint64_t node = encoding::get_u64(p);
    const uint64_t incarnation = encoding::get_u64(p + 8);
    if (node == 0 || incarnation == 0 || !remembered_.emplace(raft::NodeId(node), incarnation).second) {
      return absl::DataLossError(absl::StrCat(path_, ": damaged peer incarnations file: entry ", i, " (node ",
                                              node, ", incarnation ", incarnation, ") is invalid"));
    }
  }
  return absl::OkStatus();
}

absl::Status PeerIncarnations::save(const absl::btree_map<raft::NodeId, uint64_t>& remembered) {
  std::string body(4 + remembered.size() * kPairBytes, '\0');
  encoding::put_u32(body.data(), static_cast<uint32_t>(remembered.size()));
  char* p = body.data() + 4;
  for (const auto& [node, incarnation] : remembered) {
    encoding::put_u64(p, node.value());
    encoding::put_u64(p + 8, incarnation);
    p += kPairBytes;
  }
  return write_small_record(fs_, path_, kPeerIncarnationsRecord, body);
}

absl::StatusOr<PeerIncarnations::Admission> PeerIncarnations::admit(raft::NodeId peer, uint64_t incarnation) {
  auto it = remembered_.find(peer);
  if (it != remembered_.end()) return Admission{incarnation == 0 || incarnation == it->second, it->second};
  if (incarnation == 0) return Admission{true, 0};
  absl::btree_map<raft::NodeId, uint64_t> next = remembered_;
  next.emplace(peer, incarnation);
  if (absl::Status s = save(next); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("remembering node ", peer.value(), "'s incarnation: ", s.message()));
  }
  remembered_ = std::move(next);
  return Admission{true, incarnation};
}

}  // namespace reef::storage
