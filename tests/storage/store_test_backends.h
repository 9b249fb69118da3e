// Backends for the hard-state and snapshot store suites: the same typed test
// runs over SimFileSystem and over PosixFileSystem in a fresh mkdtemp
// directory, plus byte-level helpers that go through the FileSystem interface
// so corruption tests work on both.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "prod/disk/posix_file_system.h"
#include "sim/sim_file_system.h"
#include "storage/file_system.h"

namespace reef::storage::testing {

class SimStoreBackend {
 public:
  static constexpr const char* kName = "Sim";
  SimStoreBackend() : fs_(20240611) {}
  FileSystem& fs() { return fs_; }
  sim::SimFileSystem& sim() { return fs_; }
  std::string root() const { return "/reef/node"; }

 private:
  sim::SimFileSystem fs_;
};

class PosixStoreBackend {
 public:
  static constexpr const char* kName = "Posix";
  PosixStoreBackend() {
    char tmpl[] = "/tmp/reef-store-test-XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) root_ = tmpl;
  }
  PosixStoreBackend(const PosixStoreBackend&) = delete;
  PosixStoreBackend& operator=(const PosixStoreBackend&) = delete;
  ~PosixStoreBackend() {
    std::error_code ignored;
    if (!root_.empty()) std::filesystem::remove_all(root_, ignored);
  }
  FileSystem& fs() { return fs_; }
  const std::string& root() const { return root_; }

 private:
  prod::PosixFileSystem fs_;
  std::string root_;
};

class StoreBackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};

using StoreBackends = ::testing::Types<SimStoreBackend, PosixStoreBackend>;

// Whole contents of `path` ("" and a test failure if it cannot be read).
inline std::string read_file(FileSystem& fs, const std::string& path) {
  absl::StatusOr<std::unique_ptr<File>> file = fs.open(path, OpenMode::kExisting);
  EXPECT_TRUE(file.ok()) << file.status();
  if (!file.ok()) return "";
  absl::StatusOr<uint64_t> size = (*file)->size();
  EXPECT_TRUE(size.ok()) << size.status();
  if (!size.ok()) return "";
  absl::StatusOr<std::string> data = (*file)->read_at(0, *size);
  EXPECT_TRUE(data.ok()) << data.status();
  return data.ok() ? *data : "";
}

// Replaces `path` with exactly `data`, durably (file and name).
inline void write_file(FileSystem& fs, const std::string& path, absl::string_view data) {
  absl::StatusOr<std::unique_ptr<File>> file = fs.open(path, OpenMode::kCreate);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->truncate(0).ok());
  ASSERT_TRUE((*file)->write_at(0, data).ok());
  ASSERT_TRUE((*file)->sync().ok());
  ASSERT_TRUE(fs.sync_dir(parent_dir(path)).ok());
}

// XORs byte `offset` of `path` with `mask` in place (no sync: tests that
// flip bytes do not crash).
inline void xor_byte(FileSystem& fs, const std::string& path, uint64_t offset, uint8_t mask) {
  absl::StatusOr<std::unique_ptr<File>> file = fs.open(path, OpenMode::kExisting);
  ASSERT_TRUE(file.ok()) << file.status();
  absl::StatusOr<std::string> byte = (*file)->read_at(offset, 1);
  ASSERT_TRUE(byte.ok()) << byte.status();
  ASSERT_EQ(byte->size(), 1u);
  (*byte)[0] = static_cast<char>(static_cast<uint8_t>((*byte)[0]) ^ mask);
  ASSERT_TRUE((*file)->write_at(offset, *byte).ok());
}

}  // namespace reef::storage::testing
