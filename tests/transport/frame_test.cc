// transport/frame.h: the documented byte layout, payloads cut from streams
// split anywhere, and refusal of every damaged, truncated, oversized,
// foreign-version or garbage stream with an error that says what was wrong.
#include "transport/frame.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "tests/raft/support/rapidcheck_defaults.h"
#include "tests/transport/sample_messages.h"
#include "transport/message_codec.h"

namespace reef::transport {
namespace {

using ::testing::HasSubstr;

const bool kRapidCheckDefaults = (raft::testing::set_rapidcheck_defaults(300, 20260613), true);

constexpr uint32_t kMaxPayload = 1 << 20;

// Every frame of `stream` read through one FrameReader in pieces whose ends
// are `cuts` (ascending offsets into `stream`).
struct ReadResult {
  std::vector<std::string> payloads;
  absl::Status status;  // feed's, then finish()'s
};
ReadResult read_stream(absl::string_view stream, const std::vector<size_t>& cuts,
                       uint32_t max_payload = kMaxPayload) {
  FrameReader reader(max_payload);
  ReadResult result;
  size_t start = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(stream.size());
  for (size_t end : ends) {
    if (end < start) continue;
    result.status = reader.feed(stream.substr(start, end - start));
    start = end;
    while (std::optional<std::string> p = reader.pop()) result.payloads.push_back(std::move(*p));
    if (!result.status.ok()) return result;
  }
  result.status = reader.finish();
  return result;
}

std::vector<std::string> sample_frames() {
  std::vector<std::string> frames;
  for (const raft::NodeMessage& m : testing::one_message_of_each_kind(raft::NodeId(1), raft::NodeId(2))) {
    frames.push_back(encode_frame(encode_message(9, m)));
  }
  return frames;
}

TEST(FrameTest, HeaderLayoutIsLittleEndian) {
  const std::string frame = encode_frame("abc");
  ASSERT_EQ(frame.size(), kFrameHeaderBytes + 3);
  EXPECT_EQ(frame.substr(0, 4), "RFRM");
  EXPECT_EQ(frame.substr(4, 2), std::string("\x01\x00", 2));          // version 1
  EXPECT_EQ(frame.substr(6, 2), std::string("\x00\x00", 2));          // reserved
  EXPECT_EQ(frame.substr(8, 4), std::string("\x03\x00\x00\x00", 4));  // length 3
  uint64_t checksum = 0;
  for (int i = 7; i >= 0; --i) checksum = (checksum << 8) | static_cast<uint8_t>(frame[12 + i]);
  EXPECT_EQ(checksum, frame_checksum("abc"));
  EXPECT_EQ(frame.substr(kFrameHeaderBytes), "abc");
}

TEST(FrameTest, ReadsFramesBackToBack) {
  std::string stream;
  for (const std::string& frame : sample_frames()) stream += frame;
  stream += encode_frame("");  // empty payloads are frames too
  ReadResult r = read_stream(stream, {});
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.payloads.size(), 15u);
  EXPECT_EQ(r.payloads.back(), "");
}

TEST(FrameTest, ReadsOneByteAtATime) {
  const std::string frame = sample_frames()[0];
  std::vector<size_t> cuts;
  for (size_t i = 1; i < frame.size(); ++i) cuts.push_back(i);
  ReadResult r = read_stream(frame, cuts);
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.payloads.size(), 1u);
  EXPECT_EQ(encode_frame(r.payloads[0]), frame);
}

TEST(FrameTest, EverySingleBitFlipIsRefused) {
  for (const std::string& frame : sample_frames()) {
    for (size_t bit = 0; bit < frame.size() * 8; ++bit) {
      std::string damaged = frame;
      damaged[bit / 8] = static_cast<char>(damaged[bit / 8] ^ (1 << (bit % 8)));
      FrameReader reader(kMaxPayload);
      const absl::Status status = reader.feed(damaged);
      EXPECT_FALSE(status.ok()) << "bit " << bit << " of " << frame.size() * 8;
      EXPECT_FALSE(reader.pop().has_value()) << "bit " << bit;
    }
  }
}

TEST(FrameTest, EveryTruncationIsReportedAtEndOfStream) {
  const std::string frame = sample_frames()[0];
  for (size_t n = 1; n < frame.size(); ++n) {
    FrameReader reader(kMaxPayload);
    ASSERT_TRUE(reader.feed(frame.substr(0, n)).ok());
    EXPECT_FALSE(reader.pop().has_value());
    const absl::Status status = reader.finish();
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << n;
    EXPECT_THAT(status.message(),
                HasSubstr(n < kFrameHeaderBytes ? "inside the header" : "inside the payload"));
  }
  FrameReader clean(kMaxPayload);
  EXPECT_TRUE(clean.finish().ok());
}

TEST(FrameTest, OversizedLengthIsRefusedBeforeBuffering) {
  FrameReader reader(/*max_payload_bytes=*/1000);
  const std::string header = encode_frame_header(FrameHeader{kFrameFormatVersion, 1001, 0});
  const absl::Status status = reader.feed(header);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(), HasSubstr("payload length 1001 exceeds the max frame size of 1000 bytes"));
  // Whatever follows is never buffered.
  EXPECT_FALSE(reader.feed(std::string(1 << 20, 'x')).ok());
  EXPECT_LE(reader.partial_bytes(), kFrameHeaderBytes);

  FrameReader huge(kMaxPayload);
  EXPECT_EQ(huge.feed(encode_frame_header(FrameHeader{kFrameFormatVersion, UINT32_MAX, 0})).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_LE(huge.partial_bytes(), kFrameHeaderBytes);
}

TEST(FrameTest, AFrameAtTheLimitIsAccepted) {
  const std::string payload(1000, 'z');
  ReadResult r = read_stream(encode_frame(payload), {}, /*max_payload=*/1000);
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.payloads.size(), 1u);
}

TEST(FrameTest, AnotherVersionIsRefusedByName) {
  const std::string payload = "hello";
  const std::string frame = encode_frame_header(FrameHeader{2, 5, frame_checksum(payload)}) + payload;
  FrameReader reader(kMaxPayload);
  const absl::Status status = reader.feed(frame);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("frame format version 2; this node speaks version 1"));
}

TEST(FrameTest, AnotherProtocolIsRefusedByMagic) {
  FrameReader reader(kMaxPayload);
  const absl::Status status = reader.feed("GET / HTTP/1.1\r\nHost: reef\r\n\r\n");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("bad magic \"GET \""));
  EXPECT_THAT(status.message(), HasSubstr("stream offset 0"));
}

TEST(FrameTest, PayloadChecksumMismatchNamesTheFrame) {
  const std::vector<std::string> frames = sample_frames();
  std::string stream = frames[0] + frames[1];
  stream.back() ^= 1;
  ReadResult r = read_stream(stream, {});
  EXPECT_EQ(r.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(r.status.message(),
              HasSubstr(absl::StrCat("stream offset ", frames[0].size(), ": payload checksum")));
  EXPECT_EQ(r.payloads.size(), 1u);  // the sound frame before it was delivered
}

TEST(FrameTest, ErrorsAreSticky) {
  FrameReader reader(kMaxPayload);
  ASSERT_FALSE(reader.feed(std::string(kFrameHeaderBytes, 'g')).ok());
  EXPECT_FALSE(reader.feed(encode_frame("fine")).ok());
  EXPECT_FALSE(reader.pop().has_value());
  EXPECT_FALSE(reader.finish().ok());
}

// Split points inside a stream of `size` bytes.
rc::Gen<std::vector<size_t>> gen_cuts(size_t size) {
  return rc::gen::map(rc::gen::container<std::vector<size_t>>(rc::gen::inRange<size_t>(0, size + 1)),
                      [](std::vector<size_t> cuts) {
                        std::sort(cuts.begin(), cuts.end());
                        return cuts;
                      });
}

RC_GTEST_PROP(FrameProperties, PayloadsSurviveAnySplit, ()) {
  const auto payloads = *rc::gen::container<std::vector<std::string>>(rc::gen::arbitrary<std::string>());
  std::string stream;
  for (const std::string& p : payloads) stream += encode_frame(p);
  const ReadResult r = read_stream(stream, *gen_cuts(stream.size()));
  RC_ASSERT(r.status.ok());
  RC_ASSERT(r.payloads == payloads);
}

// Sound frames followed by garbage, split anywhere: every sound frame comes
// out, nothing else does, and the stream ends in an error (at once, or at
// finish() when the garbage is too short to judge).
RC_GTEST_PROP(FrameProperties, GarbageAfterSoundFramesIsRefused, ()) {
  const auto payloads = *rc::gen::container<std::vector<std::string>>(rc::gen::arbitrary<std::string>());
  std::string garbage = *rc::gen::nonEmpty(rc::gen::arbitrary<std::string>());
  if (garbage[0] == 'R') garbage[0] = 'r';  // never a magic prefix, so never a valid frame
  std::string stream;
  for (const std::string& p : payloads) stream += encode_frame(p);
  stream += garbage;
  const ReadResult r = read_stream(stream, *gen_cuts(stream.size()));
  RC_ASSERT(!r.status.ok());
  RC_ASSERT(r.payloads == payloads);
}

// Arbitrary bytes, some starting like a frame: never a crash, never a
// payload whose checksum was not verified, never more buffered than a header
// plus the limit.
RC_GTEST_PROP(FrameProperties, ArbitraryBytesNeverYieldUnverifiedPayloads, ()) {
  std::string stream = *rc::gen::arbitrary<std::string>();
  if (*rc::gen::arbitrary<bool>()) stream = encode_frame_header(FrameHeader{1, 40, 7}) + stream;
  const uint32_t max_payload = *rc::gen::inRange<uint32_t>(0, 200);
  FrameReader reader(max_payload);
  const std::vector<size_t> cuts = *gen_cuts(stream.size());
  size_t start = 0;
  for (size_t end : cuts) {
    (void)reader.feed(absl::string_view(stream).substr(start, end - start));
    start = end;
    RC_ASSERT(reader.partial_bytes() <= kFrameHeaderBytes + max_payload);
  }
  (void)reader.feed(absl::string_view(stream).substr(start));
  while (std::optional<std::string> p = reader.pop()) {
    RC_ASSERT(p->size() <= max_payload);
    RC_ASSERT(stream.find(encode_frame(*p)) != std::string::npos);
  }
}

}  // namespace
}  // namespace reef::transport
