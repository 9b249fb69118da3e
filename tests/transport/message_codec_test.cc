// transport/message_codec.h: every message kind survives encode -> decode
// unchanged (fixed samples and RapidCheck), and decode refuses, with a
// status naming the problem, every kind of malformed envelope a peer (or a
// damaged frame that slipped through) could hand it.
#include "transport/message_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "tests/raft/support/rapidcheck_defaults.h"
#include "tests/transport/node_message_generators.h"
#include "tests/transport/node_message_text.h"
#include "tests/transport/sample_messages.h"
#include "wire_generated.h"

namespace reef::transport {
namespace {

using ::testing::HasSubstr;
using testing::node_message_text;

const bool kRapidCheckDefaults = (raft::testing::set_rapidcheck_defaults(300, 20260612), true);

constexpr uint64_t kCluster = 0xC1;

std::string finished(flatbuffers::FlatBufferBuilder& b, flatbuffers::Offset<fbs::Envelope> root) {
  fbs::FinishEnvelopeBuffer(b, root);
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

// An envelope from 1 to 2 around the union member `value` of type `type`.
std::string envelope_with(flatbuffers::FlatBufferBuilder& b, fbs::Body type, flatbuffers::Offset<void> value,
                          uint64_t from = 1, uint64_t to = 2) {
  return finished(b, fbs::CreateEnvelope(b, kCluster, from, to, type, value));
}

std::string core_envelope_with(flatbuffers::FlatBufferBuilder& b, fbs::CoreBody type,
                               flatbuffers::Offset<void> value) {
  return envelope_with(b, fbs::Body::CoreMessage, fbs::CreateCoreMessage(b, 3, type, value).Union());
}

absl::Status decode_status(const std::string& bytes) { return decode_message(bytes, kCluster).status(); }

TEST(MessageCodecTest, EveryKindRoundTrips) {
  const auto samples = testing::one_message_of_each_kind(raft::NodeId(1), raft::NodeId(2));
  ASSERT_EQ(samples.size(), 14u);
  for (const raft::NodeMessage& m : samples) {
    SCOPED_TRACE(raft::node_message_type_name(m.body));
    absl::StatusOr<raft::NodeMessage> decoded = decode_message(encode_message(kCluster, m), kCluster);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(node_message_text(*decoded), node_message_text(m));
  }
}

TEST(MessageCodecTest, CarriesTheSendersIncarnationAndZeroAddsNoByte) {
  const raft::NodeMessage m = testing::one_message_of_each_kind(raft::NodeId(1), raft::NodeId(2)).front();
  absl::StatusOr<ReceivedEnvelope> stamped =
      decode_envelope(encode_message(kCluster, m, 0x1122334455667788ULL), kCluster);
  ASSERT_TRUE(stamped.ok()) << stamped.status();
  EXPECT_EQ(stamped->sender_incarnation, 0x1122334455667788ULL);
  EXPECT_EQ(node_message_text(stamped->message), node_message_text(m));
  absl::StatusOr<ReceivedEnvelope> unknown = decode_envelope(encode_message(kCluster, m), kCluster);
  ASSERT_TRUE(unknown.ok()) << unknown.status();
  EXPECT_EQ(unknown->sender_incarnation, 0u);
  // Old senders and the simulator: the bytes of an envelope without the field.
  EXPECT_LT(encode_message(kCluster, m).size(), encode_message(kCluster, m, 1).size());
}

TEST(MessageCodecTest, DecodesFromAnUnalignedBuffer) {
  const raft::NodeMessage m = testing::one_message_of_each_kind(raft::NodeId(4), raft::NodeId(5))[0];
  const std::string bytes = encode_message(kCluster, m);
  std::string shifted = "x" + bytes;
  absl::StatusOr<raft::NodeMessage> decoded = decode_message(absl::string_view(shifted).substr(1), kCluster);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(node_message_text(*decoded), node_message_text(m));
}

RC_GTEST_PROP(MessageCodecProperties, RandomMessagesRoundTrip, ()) {
  const raft::NodeMessage m = *testing::gen_node_message();
  const uint64_t cluster = *rc::gen::arbitrary<uint64_t>();
  const std::string bytes = encode_message(cluster, m);
  absl::StatusOr<raft::NodeMessage> decoded = decode_message(bytes, cluster);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(node_message_text(*decoded) == node_message_text(m));
  RC_ASSERT(encode_message(cluster, *decoded) == bytes);  // deterministic, canonical
}

RC_GTEST_PROP(MessageCodecProperties, AnotherClusterIsRefused, ()) {
  const raft::NodeMessage m = *testing::gen_node_message();
  const uint64_t sender = *rc::gen::arbitrary<uint64_t>();
  const uint64_t receiver = *rc::gen::distinctFrom(sender);
  const absl::Status status = decode_message(encode_message(sender, m), receiver).status();
  RC_ASSERT(status.code() == absl::StatusCode::kFailedPrecondition);
  RC_ASSERT(std::string(status.message()).find(absl::StrCat(sender)) != std::string::npos);
  RC_ASSERT(std::string(status.message()).find(absl::StrCat(receiver)) != std::string::npos);
}

TEST(MessageCodecTest, AnotherClusterErrorNamesBothIds) {
  const raft::NodeMessage m = testing::one_message_of_each_kind(raft::NodeId(1), raft::NodeId(2))[4];
  const absl::Status status = decode_message(encode_message(7, m), 9).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("cluster 7"));
  EXPECT_THAT(status.message(), HasSubstr("cluster 9"));
}

// Frames carry the length, so a cut envelope only comes from a bug or a
// forged frame. The builder may end a buffer with alignment padding, so a cut
// that removes only padding may still decode, but never to another message.
TEST(MessageCodecTest, TruncationIsRefusedOrCutsOnlyPadding) {
  for (const raft::NodeMessage& m : testing::one_message_of_each_kind(raft::NodeId(1), raft::NodeId(2))) {
    const std::string bytes = encode_message(kCluster, m);
    for (size_t n = 0; n < bytes.size(); ++n) {
      absl::StatusOr<raft::NodeMessage> decoded = decode_message(bytes.substr(0, n), kCluster);
      if (!decoded.ok()) continue;
      EXPECT_EQ(node_message_text(*decoded), node_message_text(m))
          << raft::node_message_type_name(m.body) << " cut to " << n << " of " << bytes.size() << " bytes";
      EXPECT_GE(n + 8, bytes.size()) << "more than padding was cut";
    }
  }
}

TEST(MessageCodecTest, GarbageIsRefused) {
  EXPECT_THAT(decode_status("").message(), HasSubstr("too short"));
  EXPECT_THAT(decode_status(std::string(64, '\0')).message(), HasSubstr("identifier"));
  std::string fake(64, '\xff');
  std::memcpy(fake.data() + 4, "RWIR", 4);  // right identifier, nonsense offsets
  EXPECT_THAT(decode_status(fake).message(), HasSubstr("verification"));
}

TEST(MessageCodecTest, NodeIdZeroIsRefused) {
  flatbuffers::FlatBufferBuilder b;
  EXPECT_THAT(decode_status(
                  envelope_with(b, fbs::Body::SnapshotChunkAck, fbs::CreateSnapshotChunkAck(b).Union(), 0, 2))
                  .message(),
              HasSubstr("node id 0"));
  flatbuffers::FlatBufferBuilder c;
  EXPECT_THAT(decode_status(
                  envelope_with(c, fbs::Body::SnapshotChunkAck, fbs::CreateSnapshotChunkAck(c).Union(), 1, 0))
                  .message(),
              HasSubstr("node id 0"));
}

TEST(MessageCodecTest, MissingOrUnknownBodyIsRefused) {
  flatbuffers::FlatBufferBuilder none;
  EXPECT_THAT(decode_status(envelope_with(none, fbs::Body::NONE, 0)).message(), HasSubstr("without a body"));
  flatbuffers::FlatBufferBuilder absent;
  EXPECT_THAT(decode_status(envelope_with(absent, fbs::Body::ForwardedReply, 0)).message(),
              HasSubstr("ForwardedReply body missing"));
  flatbuffers::FlatBufferBuilder unknown;
  EXPECT_THAT(decode_status(
                  envelope_with(unknown, static_cast<fbs::Body>(99), fbs::CreateTimeoutNow(unknown).Union()))
                  .message(),
              HasSubstr("unknown message type 99"));
  flatbuffers::FlatBufferBuilder core_none;
  EXPECT_THAT(decode_status(core_envelope_with(core_none, fbs::CoreBody::NONE, 0)).message(),
              HasSubstr("core message without a body"));
  flatbuffers::FlatBufferBuilder core_unknown;
  EXPECT_THAT(decode_status(core_envelope_with(core_unknown, static_cast<fbs::CoreBody>(200),
                                               fbs::CreateTimeoutNow(core_unknown).Union()))
                  .message(),
              HasSubstr("unknown core message type 200"));
}

TEST(MessageCodecTest, OutOfRangeEnumsAreRefused) {
  flatbuffers::FlatBufferBuilder entry;
  auto e = fbs::CreateLogEntryRecord(entry, 1, 5, /*type=*/3);
  auto append = fbs::CreateAppendEntries(entry, 0, 0, entry.CreateVector(std::vector{e}), 0);
  EXPECT_THAT(
      decode_status(core_envelope_with(entry, fbs::CoreBody::AppendEntries, append.Union())).message(),
      HasSubstr("log entry 5: unknown entry type 3"));

  // A configuration entry must carry its configuration, and only it may.
  flatbuffers::FlatBufferBuilder bare;
  auto bare_entry = fbs::CreateLogEntryRecord(bare, 1, 5, /*type=*/2);
  auto bare_append = fbs::CreateAppendEntries(bare, 0, 0, bare.CreateVector(std::vector{bare_entry}), 0);
  EXPECT_THAT(
      decode_status(core_envelope_with(bare, fbs::CoreBody::AppendEntries, bare_append.Union())).message(),
      HasSubstr("configuration entry without a configuration"));

  flatbuffers::FlatBufferBuilder request;
  EXPECT_THAT(decode_status(envelope_with(request, fbs::Body::ForwardedRequest,
                                          fbs::CreateForwardedRequest(request, 1, /*kind=*/6).Union()))
                  .message(),
              HasSubstr("unknown kind 6"));

  flatbuffers::FlatBufferBuilder reply;
  EXPECT_THAT(decode_status(envelope_with(reply, fbs::Body::ForwardedReply,
                                          fbs::CreateForwardedReply(reply, 1, /*code=*/17).Union()))
                  .message(),
              HasSubstr("unknown status code 17"));
}

// InstallSnapshot around a configuration with the given id lists.
std::string install_snapshot_with(std::vector<uint64_t> voters, std::vector<uint64_t> learners) {
  flatbuffers::FlatBufferBuilder b;
  auto v = b.CreateVector(voters);
  auto l = b.CreateVector(learners);
  auto configuration = encoding::fbs::CreateConfigurationRecord(b, v, 0, l);
  auto meta = encoding::fbs::CreateSnapshotMetaRecord(b, 10, 2, configuration);
  return core_envelope_with(b, fbs::CoreBody::InstallSnapshot, fbs::CreateInstallSnapshot(b, meta).Union());
}

TEST(MessageCodecTest, BadNodeIdListsAreRefused) {
  EXPECT_TRUE(decode_message(install_snapshot_with({1, 2, 3}, {5}), kCluster).ok());
  EXPECT_THAT(decode_status(install_snapshot_with({0, 2}, {})).message(),
              HasSubstr("voters contain node id 0"));
  EXPECT_THAT(decode_status(install_snapshot_with({1, 2}, {5, 4})).message(),
              HasSubstr("learners are not strictly ascending (5 then 4)"));
  EXPECT_THAT(decode_status(install_snapshot_with({2, 2}, {})).message(),
              HasSubstr("not strictly ascending"));
}

TEST(MessageCodecTest, MissingRequiredMetaIsRefused) {
  flatbuffers::FlatBufferBuilder b;
  // CreateInstallSnapshot would assert on the missing required field; build by hand.
  fbs::InstallSnapshotBuilder install(b);
  auto value = flatbuffers::Offset<fbs::InstallSnapshot>(install.fbb_.EndTable(install.start_));
  EXPECT_FALSE(
      decode_message(core_envelope_with(b, fbs::CoreBody::InstallSnapshot, value.Union()), kCluster).ok());
}

// FlatBuffers lets one table be referenced many times; a small buffer could
// then decode into gigabytes. The codec refuses payloads larger than the buffer.
TEST(MessageCodecTest, SharedPayloadsCannotAmplify) {
  flatbuffers::FlatBufferBuilder b;
  auto entry = fbs::CreateLogEntryRecord(b, 1, 1, 0, b.CreateVector(std::vector<uint8_t>(1000, 'p')));
  auto append = fbs::CreateAppendEntries(b, 0, 0, b.CreateVector(std::vector(100, entry)), 0);
  const std::string bytes = core_envelope_with(b, fbs::CoreBody::AppendEntries, append.Union());
  ASSERT_LT(bytes.size(), 2000u);
  EXPECT_THAT(decode_status(bytes).message(), HasSubstr("more than the buffer holds"));
}

// The core asserts on an invalid configuration; one from the wire is refused.
TEST(MessageCodecTest, InvalidSnapshotConfigurationIsRefused) {
  raft::SnapshotChunk chunk;
  chunk.meta = testing::sample_meta();
  chunk.meta.configuration.learners = {raft::NodeId(1)};  // also a voter
  const raft::NodeMessage m{raft::NodeId(1), raft::NodeId(2), chunk};
  EXPECT_THAT(decode_status(encode_message(kCluster, m)).message(), HasSubstr("both a voter and a learner"));
}

}  // namespace
}  // namespace reef::transport
