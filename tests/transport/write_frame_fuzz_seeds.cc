// Writes the seed corpus of fuzz/frame_decoder_fuzzer: real frames of every
// message kind (cluster id 1, which the fuzzer expects), a stream of several
// frames back to back, and one frame cut short.
//   write_frame_fuzz_seeds <directory>
#include <fstream>
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "raft/ports/node_message.h"
#include "tests/transport/sample_messages.h"
#include "transport/frame.h"
#include "transport/message_codec.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: write_frame_fuzz_seeds <directory>\n";
    return 2;
  }
  using namespace reef;
  const std::string dir = argv[1];
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream out(absl::StrCat(dir, "/", name), std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return static_cast<bool>(out);
  };
  std::string stream;
  for (const raft::NodeMessage& m :
       transport::testing::one_message_of_each_kind(raft::NodeId(1), raft::NodeId(2))) {
    const std::string frame = transport::encode_frame(transport::encode_message(1, m));
    stream += frame;
    if (!write(absl::StrCat("frame-", raft::node_message_type_name(m.body)), frame)) return 1;
  }
  if (!write("stream-all-kinds", stream)) return 1;
  if (!write("truncated", stream.substr(0, stream.size() / 3))) return 1;
  return 0;
}
