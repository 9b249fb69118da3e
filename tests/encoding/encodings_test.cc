// encoding/: the little-endian helpers write the documented byte order, the
// checksums and seals catch damage, and the membership codec round-trips and
// refuses every malformed configuration with a message saying what is wrong.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "encoding/checksummed_record.h"
#include "encoding/little_endian.h"
#include "encoding/membership_codec.h"

namespace reef::encoding {
namespace {

using ::testing::HasSubstr;

TEST(LittleEndian, WritesLowByteFirstAndReadsItBack) {
  char b[8];
  put_u16(b, 0x0102);
  EXPECT_EQ(std::string(b, 2), std::string("\x02\x01", 2));
  EXPECT_EQ(get_u16(b), 0x0102);
  put_u32(b, 0x01020304);
  EXPECT_EQ(std::string(b, 4), std::string("\x04\x03\x02\x01", 4));
  EXPECT_EQ(get_u32(b), 0x01020304u);
  put_u64(b, 0xF1F2F3F4F5F6F7F8);
  EXPECT_EQ(std::string(b, 8), "\xF8\xF7\xF6\xF5\xF4\xF3\xF2\xF1");
  EXPECT_EQ(get_u64(b), 0xF1F2F3F4F5F6F7F8u);
}

TEST(ChecksummedRecord, StreamingChecksumEqualsTheWholeChecksum) {
  const std::string bytes = "a snapshot image in three pieces";
  StreamingChecksum streaming;
  streaming.update(absl::string_view(bytes).substr(0, 5));
  streaming.update(absl::string_view(bytes).substr(5, 0));
  streaming.update(absl::string_view(bytes).substr(5));
  EXPECT_EQ(streaming.digest(), checksum(bytes));
  EXPECT_NE(checksum(bytes), checksum(bytes.substr(1)));
}

TEST(ChecksummedRecord, SealCatchesEveryBitFlipOfTheHeader) {
  for (SealWidth width : {SealWidth::k64, SealWidth::k32}) {
    std::string header(20 + static_cast<size_t>(width), '\0');
    put_u64(header.data(), 0x1122334455667788);
    put_u32(header.data() + 16, 42);
    seal(header.data(), 20, width);
    EXPECT_TRUE(seal_matches(header.data(), 20, width));
    EXPECT_EQ(get_u32(header.data() + 20), static_cast<uint32_t>(checksum(absl::string_view(header).substr(0, 20))));
    for (size_t bit = 0; bit < header.size() * 8; ++bit) {
      std::string damaged = header;
      damaged[bit / 8] = static_cast<char>(damaged[bit / 8] ^ (1 << (bit % 8)));
      EXPECT_FALSE(seal_matches(damaged.data(), 20, width)) << "bit " << bit;
    }
  }
}

raft::SnapshotMeta joint_meta() {
  raft::Configuration c;
  c.voters = raft::MajorityConfig({raft::NodeId(1), raft::NodeId(2), raft::NodeId(3)});
  c.outgoing_voters = raft::MajorityConfig({raft::NodeId(1), raft::NodeId(4)});
  c.learners = {raft::NodeId(9)};
  return raft::SnapshotMeta{raft::Index(120), raft::Term(7), c};
}

TEST(MembershipCodec, SnapshotMetaRoundTripsInBothShapes) {
  const std::string file_meta = encode_snapshot_file_meta(joint_meta());
  EXPECT_EQ(file_meta.substr(4, 4), "RSNM");
  absl::StatusOr<raft::SnapshotMeta> decoded = decode_snapshot_file_meta(file_meta);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, joint_meta());

  flatbuffers::FlatBufferBuilder b;
  b.Finish(encode_snapshot_meta(b, joint_meta()));
  const auto* record = flatbuffers::GetRoot<fbs::SnapshotMetaRecord>(b.GetBufferPointer());
  decoded = decode_snapshot_meta(record);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, joint_meta());
}

absl::Status decode_lists(std::vector<uint64_t> voters, std::vector<uint64_t> learners) {
  flatbuffers::FlatBufferBuilder b;
  auto v = b.CreateVector(voters);
  auto l = b.CreateVector(learners);
  b.Finish(fbs::CreateConfigurationRecord(b, v, 0, l));
  const auto* c = flatbuffers::GetRoot<fbs::ConfigurationRecord>(b.GetBufferPointer());
  return decode_configuration_vectors(c->voters(), c->outgoing_voters(), c->learners()).status();
}

TEST(MembershipCodec, RefusesMalformedConfigurations) {
  EXPECT_TRUE(decode_lists({1, 2, 3}, {4}).ok());
  EXPECT_THAT(decode_lists({1, 0}, {}).message(), HasSubstr("voters contain node id 0"));
  EXPECT_THAT(decode_lists({1, 2}, {5, 4}).message(), HasSubstr("learners are not strictly ascending (5 then 4)"));
  EXPECT_THAT(decode_lists({2, 2}, {}).message(), HasSubstr("not strictly ascending"));
  EXPECT_THAT(decode_lists({}, {}).message(), HasSubstr("no voters"));
  EXPECT_THAT(decode_lists({1, 2}, {2}).message(), HasSubstr("both a voter and a learner"));
  EXPECT_EQ(decode_lists({1, 2}, {2}).code(), absl::StatusCode::kInvalidArgument);
}

TEST(MembershipCodec, RefusesWhatIsNotASnapshotFileMeta) {
  EXPECT_FALSE(decode_snapshot_file_meta("").ok());
  std::string bytes = encode_snapshot_file_meta(joint_meta());
  bytes[4] = 'X';  // another file identifier
  EXPECT_THAT(decode_snapshot_file_meta(bytes).status().message(), HasSubstr("not a valid"));
  EXPECT_FALSE(decode_snapshot_meta(nullptr).ok());
}

}  // namespace
}  // namespace reef::encoding
