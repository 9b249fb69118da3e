// Not a test: (re)writes the data-directory fixture (see fixtures/README.md).
//   build/bin/write_data_dir_fixture tests/encoding/fixtures/data_dir_v1
// The history runs on a SimFileSystem (deterministic, no faults) and its
// files are then copied out to real files.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "sim/sim_file_system.h"
#include "tests/encoding/data_dir_fixture.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  reef::sim::SimFileSystem fs(1);
  if (absl::Status s = reef::testing::write_fixture_node(fs, "node"); !s.ok()) {
    std::fprintf(stderr, "writing the node failed: %s\n", s.ToString().c_str());
    return 1;
  }
  absl::StatusOr<std::map<std::string, std::string>> files = reef::testing::read_tree(fs, "node");
  if (!files.ok()) {
    std::fprintf(stderr, "reading the node back failed: %s\n", files.status().ToString().c_str());
    return 1;
  }
  const std::filesystem::path out = argv[1];
  std::filesystem::remove_all(out);
  for (const auto& [name, bytes] : *files) {
    const std::filesystem::path path = out / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::printf("%s %zu bytes\n", path.c_str(), bytes.size());
  }
  return 0;
}
