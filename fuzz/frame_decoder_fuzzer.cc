// Bytes from a peer's TCP connection: cut into frames by FrameReader and
// each verified payload decoded as a node message or a transport probe of
// cluster 1 (both decoders see every payload).
//
// Nothing may crash, assert or read out of bounds, and:
//  - where the stream is split must not matter: the input is read once whole
//    and once in small pieces (size chosen from the input length), and both
//    must give the same payloads and the same verdict;
//  - the decoder also sees the input itself and the input minus a frame
//    header as payloads: mutated frames rarely keep a matching checksum, and
//    this way the seed frames' envelopes still reach it;
//  - a payload that decodes must be canonical: encoding the decoded message
//    (or probe) and decoding that again gives the same one (messages are
//    compared through a second encoding, which is deterministic).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "transport/frame.h"
#include "transport/message_codec.h"
#include "transport/probe_codec.h"

namespace {

constexpr uint64_t kCluster = 1;
constexpr uint32_t kMaxPayloadBytes = 1 << 16;

struct Read {
  std::vector<std::string> payloads;
  bool ok = true;
};

Read read_in_pieces(absl::string_view input, size_t piece) {
  reef::transport::FrameReader reader(kMaxPayloadBytes);
  Read read;
  while (!input.empty() && read.ok) {
    const absl::string_view chunk = input.substr(0, piece);
    input.remove_prefix(chunk.size());
    read.ok = reader.feed(chunk).ok();
    while (std::optional<std::string> payload = reader.pop()) read.payloads.push_back(std::move(*payload));
  }
  if (read.ok) read.ok = reader.finish().ok();
  return read;
}

void check_probe(const std::string& payload) {
  absl::StatusOr<reef::transport::Probe> decoded = reef::transport::decode_probe(payload, kCluster);
  if (!decoded.ok()) return;
  absl::StatusOr<reef::transport::Probe> again =
      reef::transport::decode_probe(reef::transport::encode_probe(kCluster, *decoded), kCluster);
  if (!again.ok() || *again != *decoded) std::abort();
}

void check_payload(const std::string& payload) {
  check_probe(payload);
  absl::StatusOr<reef::transport::ReceivedEnvelope> decoded = reef::transport::decode_envelope(payload, kCluster);
  if (!decoded.ok()) return;
  const uint64_t incarnation = decoded->sender_incarnation;
  const std::string once = reef::transport::encode_message(kCluster, decoded->message, incarnation);
  absl::StatusOr<reef::transport::ReceivedEnvelope> again = reef::transport::decode_envelope(once, kCluster);
  if (!again.ok()) std::abort();  // refused our own encoding
  if (again->sender_incarnation != incarnation) std::abort();
  if (reef::transport::encode_message(kCluster, again->message, incarnation) != once) std::abort();  // lost or changed a field
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const Read whole = read_in_pieces(input, input.size() + 1);
  const Read pieces = read_in_pieces(input, size % 61 + 1);
  if (whole.ok != pieces.ok || whole.payloads != pieces.payloads) std::abort();
  for (const std::string& payload : whole.payloads) check_payload(payload);
  check_payload(std::string(input));
  if (input.size() >= reef::transport::kFrameHeaderBytes) {
    check_payload(std::string(input.substr(reef::transport::kFrameHeaderBytes)));
  }
  return 0;
}
