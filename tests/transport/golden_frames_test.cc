// The wire stays compatible: one frame of every message kind and a probe,
// encoded by today's code, must equal the bytes in fixtures/golden_frames.hex
// (written by an earlier commit, see fixtures/README.md), and those bytes
// must decode to the same messages. A deliberate wire change bumps the frame
// format version and regenerates the file:
//   REEF_REGENERATE_GOLDEN_FRAMES=1 build/bin/golden_frames_test
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "tests/transport/node_message_text.h"
#include "tests/transport/sample_messages.h"
#include "transport/frame.h"
#include "transport/message_codec.h"
#include "transport/probe_codec.h"

namespace reef::transport {
namespace {

constexpr uint64_t kCluster = 0xC1A55;
constexpr char kGoldenFile[] = REEF_GOLDEN_FRAMES;

Probe sample_probe() { return Probe{raft::NodeId(3), raft::NodeId(1), 77, true}; }

// The frames, in file order: the fourteen message kinds, then the probe.
std::vector<std::string> frames_of_todays_code() {
  std::vector<std::string> frames;
  for (const raft::NodeMessage& m : testing::one_message_of_each_kind(raft::NodeId(1), raft::NodeId(2))) {
    frames.push_back(encode_frame(encode_message(kCluster, m)));
  }
  frames.push_back(encode_frame(encode_probe(kCluster, sample_probe())));
  return frames;
}

// One frame per line, lowercase hex.
std::vector<std::string> golden_frames() {
  std::vector<std::string> frames;
  std::ifstream in(kGoldenFile);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) frames.push_back(absl::HexStringToBytes(line));
  }
  return frames;
}

TEST(GoldenFrames, TodaysEncodingIsByteIdentical) {
  if (std::getenv("REEF_REGENERATE_GOLDEN_FRAMES") != nullptr) {
    std::ofstream out(kGoldenFile);
    for (const std::string& frame : frames_of_todays_code()) out << absl::BytesToHexString(frame) << "\n";
    GTEST_SKIP() << "regenerated " << kGoldenFile;
  }
  const std::vector<std::string> golden = golden_frames();
  const std::vector<std::string> today = frames_of_todays_code();
  ASSERT_EQ(golden.size(), today.size());
  for (size_t i = 0; i < golden.size(); ++i) {
    EXPECT_EQ(absl::BytesToHexString(today[i]), absl::BytesToHexString(golden[i])) << "frame " << i;
  }
}

TEST(GoldenFrames, GoldenBytesDecodeToTheSameMessages) {
  const std::vector<std::string> golden = golden_frames();
  const std::vector<raft::NodeMessage> messages = testing::one_message_of_each_kind(raft::NodeId(1), raft::NodeId(2));
  ASSERT_EQ(golden.size(), messages.size() + 1);
  FrameReader reader(1 << 20);
  for (const std::string& frame : golden) ASSERT_TRUE(reader.feed(frame).ok()) << reader.status();
  for (const raft::NodeMessage& expected : messages) {
    std::optional<std::string> payload = reader.pop();
    ASSERT_TRUE(payload.has_value());
    absl::StatusOr<raft::NodeMessage> decoded = decode_message(*payload, kCluster);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(testing::node_message_text(*decoded), testing::node_message_text(expected));
  }
  std::optional<std::string> probe = reader.pop();
  ASSERT_TRUE(probe.has_value());
  absl::StatusOr<Probe> decoded = decode_probe(*probe, kCluster);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, sample_probe());
  EXPECT_TRUE(reader.finish().ok());
}

}  // namespace
}  // namespace reef::transport
