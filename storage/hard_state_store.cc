#include "storage/hard_state_store.h"

#include <algorithm>
#include <array>
#include <optional>

#include "absl/strings/str_cat.h"
#include "encoding/checksummed_record.h"
#include "encoding/little_endian.h"
#include "raft/core/assert.h"

namespace reef::storage {

using encoding::get_u16;
using encoding::get_u32;
using encoding::get_u64;
using encoding::put_u16;
using encoding::put_u32;
using encoding::put_u64;

namespace {

constexpr uint32_t kMagic = 0x53484652;  // "RFHS" when stored little-endian
constexpr uint64_t kEnvelopeBytes = 16;  // magic, version, body_len, sequence
constexpr uint64_t kChecksumBytes = static_cast<uint64_t>(encoding::SealWidth::k64);
constexpr uint16_t kBodyBytesV1 = 24;  // term, vote, commit
constexpr char kEmptySlot[] = "empty";

// What one slot holds. A slot is valid when its envelope and checksum are
// intact and its sequence belongs in it; only then is `version` meaningful,
// and only version 1 decodes into `state`.
struct Slot {
  bool valid = false;
  uint64_t sequence = 0;
  uint16_t version = 0;
  raft::HardState state;
  std::string problem;  // why it is invalid
};

Slot decode_slot(absl::string_view bytes, uint64_t slot_index) {
  Slot slot;
  if (bytes.size() < kEnvelopeBytes + kChecksumBytes) {
    slot.problem = absl::StrCat("truncated (", bytes.size(), " bytes)");
    return slot;
  }
  const char* p = bytes.data();
  if (get_u32(p) != kMagic) {
    slot.problem = bytes.find_first_not_of('\0') == absl::string_view::npos ? kEmptySlot : "bad magic";
    return slot;
  }
  const uint64_t body_len = get_u16(p + 6);
  if (body_len > HardStateStore::kSlotBytes - kEnvelopeBytes - kChecksumBytes) {
    slot.problem = absl::StrCat("body length ", body_len, " out of range");
    return slot;
  }
  const uint64_t covered = kEnvelopeBytes + body_len;
  if (bytes.size() < covered + kChecksumBytes) {
    slot.problem = absl::StrCat("truncated (", bytes.size(), " bytes)");
    return slot;
  }
  // The seal, checked by hand to name both values in the problem.
  const uint64_t stored = get_u64(p + covered);
  const uint64_t computed = encoding::checksum(absl::string_view(p, covered));
  if (stored != computed) {
    slot.problem = absl::StrCat("checksum mismatch (stored ", absl::Hex(stored), ", computed ",
                                absl::Hex(computed), ")");
    return slot;
  }
  slot.sequence = get_u64(p + 8);
  slot.version = get_u16(p + 4);
  // Parity ties a slot to its position, so a slot copied to the wrong place
  // (misdirected write) cannot win.
  // UINT64_MAX is never written (the next save would wrap to 0); a forged one
  // must not reach the assertion in encode_hard_state_slot().
  if (slot.sequence == 0 || slot.sequence == UINT64_MAX || slot.sequence % 2 != slot_index) {
    slot.problem = absl::StrCat("sequence ", slot.sequence, " does not belong in slot ", slot_index);
    return slot;
  }
  if (slot.version == HardStateStore::kFormatVersion) {
    if (body_len != kBodyBytesV1) {
      slot.problem = absl::StrCat("body length ", body_len, " invalid for version 1");
      return slot;
    }
    slot.state.term = raft::Term(get_u64(p + 16));
    const uint64_t vote = get_u64(p + 24);
    if (vote != 0) slot.state.vote = raft::NodeId(vote);
    slot.state.commit = raft::Index(get_u64(p + 32));
  }
  slot.valid = true;
  return slot;
}

}  // namespace

std::string encode_hard_state_slot(const raft::HardState& state, uint64_t sequence) {
  REEF_ASSERT(!state.vote || state.vote->value() != 0, "vote for reserved node id 0");
  REEF_ASSERT(sequence != 0, "sequence 0 marks a never-written slot");
  std::string slot(HardStateStore::kSlotBytes, '\0');
  char* p = slot.data();
  put_u32(p, kMagic);
  put_u16(p + 4, HardStateStore::kFormatVersion);
  put_u16(p + 6, kBodyBytesV1);
  put_u64(p + 8, sequence);
  put_u64(p + 16, state.term.value());
  put_u64(p + 24, state.vote ? state.vote->value() : 0);
  put_u64(p + 32, state.commit.value());
  const uint64_t covered = kEnvelopeBytes + kBodyBytesV1;
  encoding::seal(p, covered);
  return slot;
}

HardStateStore::HardStateStore(FileSystem* fs, std::string dir, bool read_only)
    : fs_(fs), dir_(std::move(dir)), path_(join_path(dir_, kFileName)), read_only_(read_only) {}

absl::StatusOr<std::unique_ptr<HardStateStore>> HardStateStore::open(FileSystem* fs, std::string dir) {
  REEF_ASSERT(fs != nullptr, "HardStateStore needs a file system");
  std::unique_ptr<HardStateStore> store(new HardStateStore(fs, std::move(dir), /*read_only=*/false));
  if (absl::Status s = store->load(); !s.ok()) return s;
  return store;
}

absl::StatusOr<std::unique_ptr<HardStateStore>> HardStateStore::open_read_only(FileSystem* fs,
                                                                              std::string dir) {
  REEF_ASSERT(fs != nullptr, "HardStateStore needs a file system");
  std::unique_ptr<HardStateStore> store(new HardStateStore(fs, std::move(dir), /*read_only=*/true));
  if (absl::Status s = store->load(); !s.ok()) return s;
  return store;
}

absl::Status HardStateStore::prepare_dir() {
  if (read_only_) {
    absl::StatusOr<bool> exists = fs_->exists(dir_);
    if (!exists.ok()) return exists.status();
    if (!*exists) return absl::NotFoundError(absl::StrCat(dir_, ": no such directory"));
  } else if (absl::Status s = fs_->create_dir(dir_); !s.ok()) {
    return s;
  }
  // A temp file is a first save that never got renamed: it was not
  // acknowledged, so it is garbage.
  const std::string temp = join_path(dir_, kTempFileName);
  absl::StatusOr<bool> temp_exists = fs_->exists(temp);
  if (!temp_exists.ok()) return temp_exists.status();
  if (!*temp_exists) return absl::OkStatus();
  if (read_only_) {
    warnings_.push_back(
        absl::StrCat(temp, ": leftover of an interrupted first save (never acknowledged); open removes it"));
    return absl::OkStatus();
  }
  return fs_->remove(temp);
}

absl::Status HardStateStore::load() {
  if (absl::Status s = prepare_dir(); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<File>> file = fs_->open(path_, OpenMode::kExisting);
  if (absl::IsNotFound(file.status())) return absl::OkStatus();  // fresh node
  if (!file.ok()) return file.status();
  absl::StatusOr<std::string> bytes = (*file)->read_at(0, kFileBytes);
  if (!bytes.ok()) return bytes.status();

  std::array<Slot, 2> slots;
  for (uint64_t i = 0; i < 2; ++i) {
    const uint64_t begin = std::min<uint64_t>(i * kSlotBytes, bytes->size());
    slots[i] = decode_slot(absl::string_view(*bytes).substr(begin, kSlotBytes), i);
  }
  const Slot* best = nullptr;
  for (const Slot& slot : slots) {
    if (slot.valid && (best == nullptr || slot.sequence > best->sequence)) best = &slot;
  }
  if (best == nullptr) {
    return absl::DataLossError(absl::StrCat(path_,
                                            ": no valid hard state: slot 0 (offset 0): ", slots[0].problem,
                                            "; slot 1 (offset ", kSlotBytes, "): ", slots[1].problem));
  }
  if (best->version != kFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(path_, ": hard state sequence ", best->sequence,
                                                      " has format version ", best->version,
                                                      "; this build reads version ", kFormatVersion));
  }
  for (uint64_t i = 0; i < 2; ++i) {
    // An all-zero slot is the unused half of a file saved only once.
    if (!slots[i].valid && slots[i].problem != kEmptySlot) {
      warnings_.push_back(absl::StrCat(path_, ": slot ", i, " (offset ", i * kSlotBytes,
                                       ") ignored: ", slots[i].problem, "; using sequence ", best->sequence));
    }
  }
  current_ = best->state;
  sequence_ = best->sequence;
  file_ = std::move(*file);
  return absl::OkStatus();
}

absl::Status HardStateStore::save(const raft::HardState& state) {
  if (read_only_) return absl::FailedPreconditionError(absl::StrCat(path_, ": opened read-only"));
  if (!broken_.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, ": an earlier save failed (", broken_.message(), "); reopen the store"));
  }
  const uint64_t sequence = sequence_ + 1;
  const std::string slot = encode_hard_state_slot(state, sequence);
  if (file_ == nullptr) {
    if (absl::Status s = create_file(slot, sequence); !s.ok()) return fail(std::move(s));
  } else {
    if (absl::Status s = file_->write_at((sequence % 2) * kSlotBytes, slot); !s.ok())
      return fail(std::move(s));
    if (absl::Status s = file_->sync(); !s.ok()) return fail(std::move(s));
  }
  current_ = state;
  sequence_ = sequence;
  return absl::OkStatus();
}

absl::Status HardStateStore::create_file(const std::string& slot, uint64_t sequence) {
  // Both slots in one write, the unused one zero (reads as "empty"), so the
  // file never exists under its name with fewer than two slots' worth of bytes.
  std::string contents(kFileBytes, '\0');
  contents.replace((sequence % 2) * kSlotBytes, kSlotBytes, slot);
  const std::string temp = join_path(dir_, kTempFileName);
  absl::StatusOr<std::unique_ptr<File>> file = fs_->open(temp, OpenMode::kCreate);
  if (!file.ok()) return file.status();
  if (absl::Status s = (*file)->write_at(0, contents); !s.ok()) return s;
  if (absl::Status s = (*file)->sync(); !s.ok()) return s;
  if (absl::Status s = fs_->rename(temp, path_); !s.ok()) return s;
  if (absl::Status s = fs_->sync_dir(dir_); !s.ok()) return s;
  // Reopen by the final name so later errors name the right file.
  absl::StatusOr<std::unique_ptr<File>> final_file = fs_->open(path_, OpenMode::kExisting);
  if (!final_file.ok()) return final_file.status();
  file_ = std::move(*final_file);
  return absl::OkStatus();
}

absl::Status HardStateStore::fail(absl::Status status) {
  REEF_ASSERT(!status.ok(), "fail() with OK");
  broken_ = status;
  return absl::Status(status.code(), absl::StrCat("saving hard state: ", status.message()));
}

}  // namespace reef::storage
