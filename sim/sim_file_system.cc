// SimFileSystem implementation. Each file is an Inode shared by every name
// and handle that refers to it (so a handle keeps working across a rename,
// as on POSIX); the visible namespace (names_) and the namespace a crash
// returns to (durable_names_) map normalized paths to inodes. Every random
// choice (injected errors, tearing, random bit flips) draws from prng_ in a
// fixed order, so a seed and a sequence of calls decide the outcome.
#include "sim/sim_file_system.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "raft/core/assert.h"

namespace reef::sim {

using storage::File;
using storage::OpenMode;

class SimFile final : public File {
 public:
  SimFile(SimFileSystem* fs, std::shared_ptr<SimFileSystem::Inode> inode, std::string path)
      : fs_(fs), inode_(std::move(inode)), path_(std::move(path)), generation_(fs->generation_) {
    REEF_ASSERT(inode_ != nullptr, path_);
  }

  absl::Status append(absl::string_view data) override {
    if (absl::Status s = usable(); !s.ok()) return s;
    return write(inode_->data.size(), data);
  }

  absl::Status write_at(uint64_t offset, absl::string_view data) override {
    if (absl::Status s = usable(); !s.ok()) return s;
    return write(offset, data);
  }

  absl::StatusOr<std::string> read_at(uint64_t offset, uint64_t length) override {
    if (absl::Status s = usable(); !s.ok()) return s;
    if (absl::Status s = fs_->maybe_fail(SimFileSystem::OpKind::kRead, path_); !s.ok()) return s;
    if (offset >= inode_->data.size()) return std::string();
    return inode_->data.substr(offset, length);
  }

  absl::Status sync() override {
    if (absl::Status s = usable(); !s.ok()) return s;
    if (absl::Status s = fs_->maybe_fail(SimFileSystem::OpKind::kSync, path_); !s.ok()) return s;
    if (fs_->faults().lie_about_file_sync) return absl::OkStatus();
    inode_->durable = inode_->data;
    inode_->last_unsynced_write.reset();
    return absl::OkStatus();
  }

  absl::Status truncate(uint64_t size) override {
    if (absl::Status s = usable(); !s.ok()) return s;
    if (absl::Status s = fs_->maybe_fail(SimFileSystem::OpKind::kWrite, path_); !s.ok()) return s;
    if (absl::Status s = fs_->check_space(*inode_, size, path_); !s.ok()) return s;
    inode_->data.resize(size, '\0');
    // A truncation is metadata: on crash it is either done or not; model
    // "not" by leaving the durable copy alone until the next sync. The write
    // before it can no longer be torn into place, so it is simply lost.
    inode_->last_unsynced_write.reset();
    return absl::OkStatus();
  }

  // Zeros, like a truncate that extends: on a crash before the next sync the
  // file keeps its durable length.
  absl::Status allocate(uint64_t size) override {
    if (absl::Status s = usable(); !s.ok()) return s;
    if (absl::Status s = fs_->maybe_fail(SimFileSystem::OpKind::kWrite, path_); !s.ok()) return s;
    if (size <= inode_->data.size()) return absl::OkStatus();
    if (absl::Status s = fs_->check_space(*inode_, size, path_); !s.ok()) return s;
    inode_->data.resize(size, '\0');
    inode_->last_unsynced_write.reset();
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> size() override {
    if (absl::Status s = usable(); !s.ok()) return s;
    return inode_->data.size();
  }

  const std::string& path() const override { return path_; }

 private:
  // Counts the operation once (append and write_at share this), then checks
  // the handle is still valid.
  absl::Status usable() const {
    ++fs_->operations_;
    if (generation_ != fs_->generation_) {
      return absl::FailedPreconditionError(absl::StrCat(path_, ": file handle opened before a crash"));
    }
    return absl::OkStatus();
  }

  absl::Status write(uint64_t offset, absl::string_view data) {
    if (absl::Status s = fs_->maybe_fail(SimFileSystem::OpKind::kWrite, path_); !s.ok()) return s;
    // pwrite of nothing does not extend the file, even past its end.
    if (data.empty()) return absl::OkStatus();
    if (offset > SimFileSystem::kMaxFileBytes || data.size() > SimFileSystem::kMaxFileBytes - offset) {
      return absl::OutOfRangeError(absl::StrCat(path_, ": write failed: EFBIG (offset ", offset, " + ",
                                                data.size(), " bytes is past the simulator's limit of ",
                                                SimFileSystem::kMaxFileBytes, " bytes per file)"));
    }
    const uint64_t new_size = std::max<uint64_t>(inode_->data.size(), offset + data.size());
    if (absl::Status s = fs_->check_space(*inode_, new_size, path_); !s.ok()) return s;
    if (inode_->data.size() < new_size) inode_->data.resize(new_size, '\0');
    inode_->data.replace(offset, data.size(), data.data(), data.size());
    inode_->last_unsynced_write = SimFileSystem::Inode::Write{offset, std::string(data)};
    REEF_ASSERT(inode_->data.size() <= SimFileSystem::kMaxFileBytes, path_, " size=", inode_->data.size());
    return absl::OkStatus();
  }

  SimFileSystem* fs_;
  std::shared_ptr<SimFileSystem::Inode> inode_;
  std::string path_;
  uint64_t generation_;
};

SimFileSystem::SimFileSystem(uint64_t seed) : prng_(seed) {
  dirs_.insert(".");
  dirs_.insert("/");
}

SimFileSystem::~SimFileSystem() = default;

absl::StatusOr<std::string> SimFileSystem::normalize(absl::string_view operation, const std::string& path) {
  if (absl::Status s = storage::validate_path(path); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(operation, " failed: ", s.message()));
  }
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", operation, " failed: '..' is not supported by the simulated file system"));
    }
    parts.push_back(part);
  }
  const bool absolute = path.front() == '/';
  if (parts.empty()) return std::string(absolute ? "/" : ".");
  return absl::StrCat(absolute ? "/" : "", absl::StrJoin(parts, "/"));
}

absl::Status SimFileSystem::maybe_fail(OpKind kind, const std::string& path) {
  uint64_t* counter = nullptr;
  uint32_t per_million = 0;
  std::optional<uint64_t> nth;
  const char* what = "";
  switch (kind) {
    case OpKind::kRead:
      counter = &stats_.reads, per_million = faults_.read_error_per_million, nth = faults_.fail_read_call;
      what = "read";
      break;
    case OpKind::kWrite:
      counter = &stats_.writes, per_million = faults_.write_error_per_million, nth = faults_.fail_write_call;
      what = "write";
      break;
    case OpKind::kSync:
      counter = &stats_.syncs, per_million = faults_.sync_error_per_million, nth = faults_.fail_sync_call;
      what = "sync";
      break;
  }
  REEF_ASSERT(counter != nullptr);
  ++*counter;
  // Clamped: a probability above one is "always", not a broken assertion in
  // Prng::chance.
  per_million = std::min<uint32_t>(per_million, 1000000);
  const bool fail = (nth && *nth == *counter) || (per_million > 0 && prng_.chance(per_million, 1000000));
  if (!fail) return absl::OkStatus();
  ++stats_.injected_errors;
  return absl::UnavailableError(absl::StrCat(path, ": ", what, " failed: EIO (injected)"));
}

uint64_t SimFileSystem::bytes_except(const Inode* excluded) const {
  uint64_t total = 0;
  for (const auto& [name, inode] : names_) {
    if (inode.get() != excluded) total += inode->data.size();
  }
  return total;
}

absl::Status SimFileSystem::check_space(const Inode& inode, uint64_t new_size,
                                        const std::string& path) const {
  // Shrinking or rewriting in place never needs space, even over budget.
  if (new_size <= inode.data.size()) return absl::OkStatus();
  if (new_size > kMaxFileBytes) {
    return absl::OutOfRangeError(absl::StrCat(path, ": write failed: EFBIG (size ", new_size,
                                              " is past the simulator's limit of ", kMaxFileBytes,
                                              " bytes per file)"));
  }
  // The file itself counts even when it was removed but is still open, as
  // its blocks stay allocated until the last handle goes.
  if (!faults_.byte_budget || bytes_except(&inode) + new_size <= *faults_.byte_budget) {
    return absl::OkStatus();
  }
  return absl::ResourceExhaustedError(
      absl::StrCat(path, ": write failed: ENOSPC (budget of ", *faults_.byte_budget, " bytes)"));
}

bool SimFileSystem::dir_exists(const std::string& dir) const { return dirs_.contains(dir); }

absl::StatusOr<std::unique_ptr<File>> SimFileSystem::open(const std::string& path, OpenMode mode) {
  ++operations_;
  absl::StatusOr<std::string> key = normalize("open", path);
  if (!key.ok()) return key.status();
  if (dirs_.contains(*key)) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": open failed: is a directory"));
  }
  if (!dir_exists(storage::parent_dir(*key))) {
    return absl::NotFoundError(absl::StrCat(path, ": open failed: directory does not exist"));
  }
  auto it = names_.find(*key);
  if (it == names_.end()) {
    if (mode == OpenMode::kExisting) {
      return absl::NotFoundError(absl::StrCat(path, ": open failed: no such file"));
    }
    it = names_.emplace(*key, std::make_shared<Inode>()).first;
  } else if (mode == OpenMode::kCreateNew) {
    return absl::AlreadyExistsError(absl::StrCat(path, ": open failed: already exists"));
  }
  return std::unique_ptr<File>(new SimFile(this, it->second, path));
}

absl::Status SimFileSystem::remove(const std::string& path) {
  ++operations_;
  absl::StatusOr<std::string> key = normalize("remove", path);
  if (!key.ok()) return key.status();
  if (dirs_.contains(*key)) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": remove failed: is a directory"));
  }
  if (names_.erase(*key) == 0) {
    return absl::NotFoundError(absl::StrCat(path, ": remove failed: no such file"));
  }
  return absl::OkStatus();
}

absl::Status SimFileSystem::rename(const std::string& from, const std::string& to) {
  ++operations_;
  absl::StatusOr<std::string> from_key = normalize("rename", from);
  if (!from_key.ok()) return from_key.status();
  absl::StatusOr<std::string> to_key = normalize("rename", to);
  if (!to_key.ok()) return to_key.status();
  auto it = names_.find(*from_key);
  if (it == names_.end()) {
    return absl::NotFoundError(absl::StrCat(from, " -> ", to, ": rename failed: no such file ", from));
  }
  if (dirs_.contains(*to_key)) {
    return absl::FailedPreconditionError(
        absl::StrCat(from, " -> ", to, ": rename failed: ", to, " is a directory"));
  }
  if (!dir_exists(storage::parent_dir(*to_key))) {
    return absl::NotFoundError(absl::StrCat(from, " -> ", to, ": rename failed: directory does not exist"));
  }
  std::shared_ptr<Inode> inode = it->second;
  names_.erase(it);
  names_[*to_key] = std::move(inode);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> SimFileSystem::list(const std::string& dir) {
  ++operations_;
  absl::StatusOr<std::string> key = normalize("list", dir);
  if (!key.ok()) return key.status();
  if (names_.contains(*key)) {
    return absl::FailedPreconditionError(absl::StrCat(dir, ": list failed: not a directory"));
  }
  if (!dir_exists(*key)) return absl::NotFoundError(absl::StrCat(dir, ": list failed: no such directory"));
  std::vector<std::string> out;
  for (const auto& [path, inode] : names_) {
    if (storage::parent_dir(path) == *key) out.push_back(path.substr(path.find_last_of('/') + 1));
  }
  // The children of one directory share its prefix, so std::map order is
  // already the sorted order of their names.
  REEF_ASSERT(std::is_sorted(out.begin(), out.end()), dir);
  return out;
}

absl::Status SimFileSystem::sync_dir(const std::string& dir) {
  ++operations_;
  absl::StatusOr<std::string> key = normalize("sync_dir", dir);
  if (!key.ok()) return key.status();
  if (!dir_exists(*key)) {
    return absl::NotFoundError(absl::StrCat(dir, ": sync_dir failed: no such directory"));
  }
  if (absl::Status s = maybe_fail(OpKind::kSync, dir); !s.ok()) return s;
  for (auto it = durable_names_.begin(); it != durable_names_.end();) {
    it = storage::parent_dir(it->first) == *key && !names_.contains(it->first) ? durable_names_.erase(it)
                                                                               : std::next(it);
  }
  std::set<const Inode*> synced;
  for (const auto& [path, inode] : names_) {
    if (storage::parent_dir(path) != *key) continue;
    durable_names_[path] = inode;
    synced.insert(inode.get());
  }
  // A rename is one journal transaction on the file systems we run on, so
  // making its new name durable also retires the old name in another
  // directory. Without this a crash could resurrect one file under two names.
  for (auto it = durable_names_.begin(); it != durable_names_.end();) {
    const bool stale = synced.contains(it->second.get()) && storage::parent_dir(it->first) != *key && [&] {
      auto visible = names_.find(it->first);
      return visible == names_.end() || visible->second != it->second;
    }();
    it = stale ? durable_names_.erase(it) : std::next(it);
  }
  return absl::OkStatus();
}

absl::Status SimFileSystem::create_dir(const std::string& dir) {
  ++operations_;
  absl::StatusOr<std::string> key = normalize("create_dir", dir);
  if (!key.ok()) return key.status();
  // Check every prefix before inserting any, so a failure changes nothing.
  std::vector<std::string> prefixes;
  for (size_t slash = key->find('/', 1); slash != std::string::npos; slash = key->find('/', slash + 1)) {
    prefixes.push_back(key->substr(0, slash));
  }
  prefixes.push_back(*key);
  for (const std::string& prefix : prefixes) {
    if (names_.contains(prefix)) {
      return absl::FailedPreconditionError(
          absl::StrCat(dir, ": create_dir failed: ", prefix, " exists and is not a directory"));
    }
  }
  dirs_.insert(prefixes.begin(), prefixes.end());
  return absl::OkStatus();
}

absl::StatusOr<bool> SimFileSystem::exists(const std::string& path) {
  ++operations_;
  absl::StatusOr<std::string> key = normalize("exists", path);
  if (!key.ok()) return key.status();
  return names_.contains(*key) || dirs_.contains(*key);
}

void SimFileSystem::tear(Inode& inode) {
  if (!faults_.torn_writes || !inode.last_unsynced_write) return;
  const Inode::Write& w = *inode.last_unsynced_write;
  if (w.bytes.empty()) return;
  const uint64_t end = w.offset + w.bytes.size();
  const uint64_t first_sector = w.offset / kSectorBytes;
  const uint64_t sectors = (end - 1) / kSectorBytes - first_sector + 1;
  // The disk wrote the first `whole` sectors the write touches completely,
  // then part of the next one, then nothing.
  const uint64_t whole = prng_.below(sectors + 1);
  uint64_t keep = whole == 0 ? 0 : std::min(end, (first_sector + whole) * kSectorBytes) - w.offset;
  if (keep < w.bytes.size()) {
    const uint64_t in_next_sector =
        std::min(end, (first_sector + whole + 1) * kSectorBytes) - (w.offset + keep);
    REEF_ASSERT(in_next_sector > 0 && in_next_sector <= kSectorBytes, "in_next_sector=", in_next_sector);
    keep += prng_.below(in_next_sector);
  }
  REEF_ASSERT(keep <= w.bytes.size(), "keep=", keep, " size=", w.bytes.size());
  if (keep == 0) return;
  if (inode.data.size() < w.offset + keep) inode.data.resize(w.offset + keep, '\0');
  inode.data.replace(w.offset, keep, w.bytes, 0, keep);
  ++stats_.torn_writes;
}

void SimFileSystem::crash() {
  ++stats_.crashes;
  ++generation_;
  names_ = durable_names_;
  // An inode can sit under two durable names (a rename across directories
  // with only one of them synced); it must be reset and torn only once.
  std::set<const Inode*> done;
  for (auto& [path, inode] : names_) {
    if (!done.insert(inode.get()).second) continue;
    inode->data = inode->durable;
    tear(*inode);
    inode->last_unsynced_write.reset();
  }
}

absl::Status SimFileSystem::flip_bit(const std::string& path, uint64_t offset, int bit) {
  absl::StatusOr<std::string> key = normalize("flip_bit", path);
  if (!key.ok()) return key.status();
  auto it = names_.find(*key);
  if (it == names_.end()) return absl::NotFoundError(absl::StrCat(path, ": flip_bit failed: no such file"));
  Inode& inode = *it->second;
  if (offset >= inode.data.size() || bit < 0 || bit > 7) {
    return absl::OutOfRangeError(absl::StrCat(path, ": flip_bit failed: no byte ", offset, " bit ", bit,
                                              " in a file of ", inode.data.size(), " bytes"));
  }
  const char mask = static_cast<char>(1u << bit);
  inode.data[offset] ^= mask;
  // The stored sector is damaged, so the flip survives a crash too.
  if (offset < inode.durable.size()) inode.durable[offset] ^= mask;
  ++stats_.bit_flips;
  return absl::OkStatus();
}

bool SimFileSystem::flip_random_bit() {
  std::vector<const std::string*> candidates;
  for (const auto& [path, inode] : names_) {
    if (!inode->data.empty()) candidates.push_back(&path);
  }
  if (candidates.empty()) return false;
  const std::string& path = *candidates[prng_.below(candidates.size())];
  const uint64_t offset = prng_.below(names_.at(path)->data.size());
  const absl::Status flipped = flip_bit(path, offset, static_cast<int>(prng_.below(8)));
  REEF_ASSERT(flipped.ok(), flipped.ToString());
  return true;
}

absl::StatusOr<std::string> SimFileSystem::contents(const std::string& path) const {
  absl::StatusOr<std::string> key = normalize("contents", path);
  if (!key.ok()) return key.status();
  auto it = names_.find(*key);
  if (it == names_.end()) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  return it->second->data;
}

}  // namespace reef::sim
