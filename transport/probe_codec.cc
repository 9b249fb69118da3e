#include "transport/probe_codec.h"

#include <array>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "probe_generated.h"
#include "raft/core/assert.h"

namespace reef::transport {
namespace {

// Root offset and identifier come first; anything shorter is no probe.
constexpr size_t kMinProbeBytes = 8;

absl::Status invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("probe: ", what));
}

}  // namespace

bool is_probe(absl::string_view payload) {
  return payload.size() >= kMinProbeBytes &&
         flatbuffers::BufferHasIdentifier(payload.data(), fbs::ProbeIdentifier());
}

std::string encode_probe(uint64_t cluster_id, const Probe& probe) {
  REEF_ASSERT(probe.from != raft::NodeId(0) && probe.to != raft::NodeId(0), "probe from ", probe.from.value(),
              " to ", probe.to.value());
  flatbuffers::FlatBufferBuilder b(128);
  fbs::FinishProbeBuffer(
      b, fbs::CreateProbe(b, cluster_id, probe.from.value(), probe.to.value(), probe.sequence, probe.reply,
                          probe.incarnation, probe.refused));
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

absl::StatusOr<Probe> decode_probe(absl::string_view bytes, uint64_t expected_cluster_id) {
  if (!is_probe(bytes)) {
    return invalid(absl::StrCat("not a probe (", bytes.size(), " bytes, file identifier is not \"",
                                fbs::ProbeIdentifier(), "\")"));
  }
  if (bytes.size() > kMaxProbeBytes)
    return invalid(absl::StrCat(bytes.size(), " bytes is too long for a probe"));
  // Copied into aligned storage: FlatBuffers reads scalars in place.
  std::array<uint64_t, kMaxProbeBytes / sizeof(uint64_t)> aligned{};
  std::memcpy(aligned.data(), bytes.data(), bytes.size());
  const auto* data = reinterpret_cast<const uint8_t*>(aligned.data());
  flatbuffers::Verifier::Options options;
  options.max_depth = 4;
  options.max_tables = 4;
  flatbuffers::Verifier verifier(data, bytes.size(), options);
  if (!fbs::VerifyProbeBuffer(verifier)) return invalid("FlatBuffers verification failed");
  const fbs::Probe& p = *fbs::GetProbe(data);
  if (p.cluster_id() != expected_cluster_id) {
    return absl::FailedPreconditionError(absl::StrCat(
        "probe: from cluster ", p.cluster_id(), ", but this node belongs to cluster ", expected_cluster_id));
  }
  if (p.from() == 0 || p.to() == 0) {
    return invalid(absl::StrCat("node id 0 is reserved (from ", p.from(), ", to ", p.to(), ")"));
  }
  return Probe{raft::NodeId(p.from()), raft::NodeId(p.to()), p.sequence(), p.reply(), p.incarnation(), p.refused()};
}

}  // namespace reef::transport
