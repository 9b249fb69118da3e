// CrashPointFileSystem: a FileSystem wrapper for exhaustive crash-point tests.
// It forwards the first `budget` operations (every call on the file system or
// on a file it opened, except File::path()) to the wrapped file system and
// fails every later one with UNAVAILABLE, as if the process had died right
// after operation number `budget`. The test then calls SimFileSystem::crash()
// on the wrapped file system and recovers from what is durable.
//
// Running a workload once with an unlimited budget and reading operations()
// gives the number of crash points; the test then reruns it for every budget
// 0..operations().
//
// With eager_names, every create, rename and remove is made durable at once
// (a sync_dir of the wrapped file system, not counted as an operation), the
// way a journaling file system often commits metadata before anyone asks.
// SimFileSystem by itself keeps names volatile until sync_dir; running both
// modes covers temp files that survive a crash with torn contents and renames
// that become durable before the store syncs the directory.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/file_system.h"

namespace reef::storage::testing {

// Crash suites run twice: names durable only through the store's own
// sync_dir calls (false), and names durable at once (true, "eager"), as many
// real file systems behave. This names the two runs.
inline std::string durability_mode_name(const ::testing::TestParamInfo<bool>& info) {
  return info.param ? "Eager" : "SyncDirOnly";
}

class CrashPointFileSystem final : public FileSystem {
 public:
  explicit CrashPointFileSystem(FileSystem* inner, uint64_t budget = std::numeric_limits<uint64_t>::max(),
                                bool eager_names = false)
      : inner_(inner), budget_(budget), eager_names_(eager_names) {}

  uint64_t operations() const { return operations_; }
  bool crashed() const { return operations_ >= budget_; }

  absl::StatusOr<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override {
    if (absl::Status s = step(path); !s.ok()) return s;
    absl::StatusOr<std::unique_ptr<File>> file = inner_->open(path, mode);
    if (!file.ok()) return file.status();
    if (mode != OpenMode::kExisting) persist_name(path);
    return std::unique_ptr<File>(new WrappedFile(this, std::move(*file)));
  }
  absl::Status remove(const std::string& path) override {
    if (absl::Status s = step(path); !s.ok()) return s;
    absl::Status removed = inner_->remove(path);
    persist_name(path);
    return removed;
  }
  absl::Status rename(const std::string& from, const std::string& to) override {
    if (absl::Status s = step(from); !s.ok()) return s;
    absl::Status renamed = inner_->rename(from, to);
    persist_name(from);
    persist_name(to);
    return renamed;
  }
  absl::StatusOr<std::vector<std::string>> list(const std::string& dir) override {
    if (absl::Status s = step(dir); !s.ok()) return s;
    return inner_->list(dir);
  }
  absl::Status sync_dir(const std::string& dir) override {
    if (absl::Status s = step(dir); !s.ok()) return s;
    return inner_->sync_dir(dir);
  }
  absl::Status create_dir(const std::string& dir) override {
    if (absl::Status s = step(dir); !s.ok()) return s;
    return inner_->create_dir(dir);
  }
  absl::StatusOr<bool> exists(const std::string& path) override {
    if (absl::Status s = step(path); !s.ok()) return s;
    return inner_->exists(path);
  }

 private:
  class WrappedFile final : public File {
   public:
    WrappedFile(CrashPointFileSystem* fs, std::unique_ptr<File> inner) : fs_(fs), inner_(std::move(inner)) {}
    absl::Status append(absl::string_view data) override {
      if (absl::Status s = fs_->step(path()); !s.ok()) return s;
      return inner_->append(data);
    }
    absl::Status write_at(uint64_t offset, absl::string_view data) override {
      if (absl::Status s = fs_->step(path()); !s.ok()) return s;
      return inner_->write_at(offset, data);
    }
    absl::StatusOr<std::string> read_at(uint64_t offset, uint64_t length) override {
      if (absl::Status s = fs_->step(path()); !s.ok()) return s;
      return inner_->read_at(offset, length);
    }
    absl::Status sync() override {
      if (absl::Status s = fs_->step(path()); !s.ok()) return s;
      return inner_->sync();
    }
    absl::Status truncate(uint64_t size) override {
      if (absl::Status s = fs_->step(path()); !s.ok()) return s;
      return inner_->truncate(size);
    }
    absl::Status allocate(uint64_t size) override {
      if (absl::Status s = fs_->step(path()); !s.ok()) return s;
      return inner_->allocate(size);
    }
    absl::StatusOr<uint64_t> size() override {
      if (absl::Status s = fs_->step(path()); !s.ok()) return s;
      return inner_->size();
    }
    const std::string& path() const override { return inner_->path(); }

   private:
    CrashPointFileSystem* fs_;
    std::unique_ptr<File> inner_;
  };

  absl::Status step(const std::string& path) {
    if (operations_ >= budget_) {
      return absl::UnavailableError(absl::StrCat(path, ": process crashed after operation ", budget_));
    }
    ++operations_;
    return absl::OkStatus();
  }

  void persist_name(const std::string& path) {
    if (eager_names_) inner_->sync_dir(parent_dir(path)).IgnoreError();
  }

  FileSystem* inner_;
  uint64_t budget_;
  bool eager_names_;
  uint64_t operations_ = 0;
};

}  // namespace reef::storage::testing
