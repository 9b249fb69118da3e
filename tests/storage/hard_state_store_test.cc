// HardStateStore: round trips and corruption handling on both backends, and,
// on SimFileSystem, a crash after every single file-system operation of a
// sequence of saves (with torn writes) and an I/O error at every write and
// sync: after recovery the value is always the last acknowledged one or the
// one being saved, never anything else and never an error.
#include "storage/hard_state_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "raft/core/random.h"
#include "sim/sim_file_system.h"
#include "tests/storage/crash_point_file_system.h"
#include "tests/storage/hard_state_values.h"
#include "tests/storage/store_test_backends.h"

namespace reef::storage {
namespace {

using raft::HardState;
using raft::Index;
using raft::NodeId;
using raft::Term;
using ::testing::AnyOf;
using testing::CrashPointFileSystem;
using ::testing::Eq;
using ::testing::HasSubstr;

using testing::hs;

// A sequence that changes every field, clears the vote, and uses extremes.
std::vector<HardState> workload() {
  return {hs(1, 1, 0),
          hs(1, 1, 5),
          hs(2, std::nullopt, 5),
          hs(2, 3, 7),
          hs(9, 2, 100),
          hs(10, std::nullopt, 100),
          hs(UINT64_MAX, UINT64_MAX, UINT64_MAX)};
}

template <typename Backend>
class HardStateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(backend_.root().empty()) << "could not make the test directory"; }

  FileSystem& fs() { return backend_.fs(); }
  std::string dir() const { return join_path(backend_.root(), "raft"); }
  std::string file() const { return join_path(dir(), HardStateStore::kFileName); }

  std::unique_ptr<HardStateStore> open_ok() {
    absl::StatusOr<std::unique_ptr<HardStateStore>> store = HardStateStore::open(&fs(), dir());
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  Backend backend_;
};

TYPED_TEST_SUITE(HardStateStoreTest, testing::StoreBackends, testing::StoreBackendNames);

TYPED_TEST(HardStateStoreTest, FreshDirectoryYieldsDefaultWithoutCreatingAFile) {
  std::unique_ptr<HardStateStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->current(), HardState{});
  EXPECT_EQ(store->sequence(), 0u);
  EXPECT_TRUE(store->warnings().empty());
  absl::StatusOr<bool> exists = this->fs().exists(this->file());
  ASSERT_TRUE(exists.ok());
  EXPECT_FALSE(*exists);
}

// The inspection tool's view: the same value as open(), nothing changed.
TYPED_TEST(HardStateStoreTest, ReadOnlyOpenReadsTheValueAndChangesNothing) {
  EXPECT_EQ(HardStateStore::open_read_only(&this->fs(), this->dir()).status().code(),
            absl::StatusCode::kNotFound);
  const HardState state{Term(9), NodeId(3), Index(17)};
  {
    std::unique_ptr<HardStateStore> store = this->open_ok();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->save(state).ok());
  }
  const std::string temp = join_path(this->dir(), HardStateStore::kTempFileName);
  testing::write_file(this->fs(), temp, "leftover");
  absl::StatusOr<std::unique_ptr<HardStateStore>> store = HardStateStore::open_read_only(&this->fs(), this->dir());
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->current(), state);
  ASSERT_EQ((*store)->warnings().size(), 1u);
  EXPECT_THAT((*store)->warnings()[0], HasSubstr("leftover of an interrupted first save"));
  EXPECT_EQ((*store)->save(HardState{}).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(testing::read_file(this->fs(), temp), "leftover");
  // open() is the one that cleans up.
  ASSERT_NE(this->open_ok(), nullptr);
  absl::StatusOr<bool> exists = this->fs().exists(temp);
  ASSERT_TRUE(exists.ok());
  EXPECT_FALSE(*exists);
}

TYPED_TEST(HardStateStoreTest, EverySaveIsReadBackAfterReopen) {
  for (const HardState& state : workload()) {
    std::unique_ptr<HardStateStore> store = this->open_ok();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->save(state).ok());
    EXPECT_EQ(store->current(), state);
    store.reset();
    std::unique_ptr<HardStateStore> reopened = this->open_ok();
    ASSERT_NE(reopened, nullptr);
    EXPECT_EQ(reopened->current(), state) << describe(reopened->current());
    EXPECT_TRUE(reopened->warnings().empty()) << reopened->warnings()[0];
  }
}

TYPED_TEST(HardStateStoreTest, SavesAlternateBetweenTwoSectorSlots) {
  std::unique_ptr<HardStateStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  const std::vector<HardState> states = workload();
  for (size_t i = 0; i < states.size(); ++i) {
    ASSERT_TRUE(store->save(states[i]).ok());
    const uint64_t sequence = i + 1;
    ASSERT_EQ(store->sequence(), sequence);
    const std::string bytes = testing::read_file(this->fs(), this->file());
    ASSERT_EQ(bytes.size(), HardStateStore::kFileBytes);
    EXPECT_EQ(bytes.substr((sequence % 2) * HardStateStore::kSlotBytes, HardStateStore::kSlotBytes),
              encode_hard_state_slot(states[i], sequence));
    if (i > 0) {  // the other slot still holds the previous value
      EXPECT_EQ(bytes.substr(((sequence - 1) % 2) * HardStateStore::kSlotBytes, HardStateStore::kSlotBytes),
                encode_hard_state_slot(states[i - 1], sequence - 1));
    }
  }
}

TYPED_TEST(HardStateStoreTest, LeftoverTempFileOfAnInterruptedFirstSaveIsRemoved) {
  ASSERT_TRUE(this->fs().create_dir(this->dir()).ok());
  const std::string temp = join_path(this->dir(), HardStateStore::kTempFileName);
  testing::write_file(this->fs(), temp, encode_hard_state_slot(hs(5, 5, 5), 1));
  std::unique_ptr<HardStateStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->current(), HardState{});  // never acknowledged
  absl::StatusOr<bool> exists = this->fs().exists(temp);
  ASSERT_TRUE(exists.ok());
  EXPECT_FALSE(*exists);
  ASSERT_TRUE(store->save(hs(1, 2, 3)).ok());
  store = this->open_ok();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->current(), hs(1, 2, 3));
}

TYPED_TEST(HardStateStoreTest, BothSlotsDamagedIsDataLossNamingTheFile) {
  std::unique_ptr<HardStateStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->save(hs(3, 1, 2)).ok());
  ASSERT_TRUE(store->save(hs(4, 2, 2)).ok());
  store.reset();
  testing::xor_byte(this->fs(), this->file(), 20, 0x01);
  testing::xor_byte(this->fs(), this->file(), HardStateStore::kSlotBytes + 20, 0x01);
  absl::StatusOr<std::unique_ptr<HardStateStore>> reopened = HardStateStore::open(&this->fs(), this->dir());
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(reopened.status().message(), HasSubstr(this->file()));
  EXPECT_THAT(reopened.status().message(), HasSubstr("checksum mismatch"));
}

TYPED_TEST(HardStateStoreTest, TruncatedOrEmptyFileIsDataLoss) {
  std::unique_ptr<HardStateStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->save(hs(3, 1, 2)).ok());
  store.reset();
  for (uint64_t size : {0, 30, 511}) {
    const std::string bytes = testing::read_file(this->fs(), this->file());
    testing::write_file(this->fs(), this->file(), bytes.substr(0, size));
    absl::StatusOr<std::unique_ptr<HardStateStore>> reopened = HardStateStore::open(&this->fs(), this->dir());
    ASSERT_FALSE(reopened.ok()) << size;
    EXPECT_EQ(reopened.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(reopened.status().message(), HasSubstr("truncated"));
  }
}

TYPED_TEST(HardStateStoreTest, TruncationKeepingTheValidSlotRecovers) {
  std::unique_ptr<HardStateStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->save(hs(3, 1, 2)).ok());  // sequence 1: slot 1
  ASSERT_TRUE(store->save(hs(4, 1, 2)).ok());  // sequence 2: slot 0
  store.reset();
  const std::string bytes = testing::read_file(this->fs(), this->file());
  testing::write_file(this->fs(), this->file(), bytes.substr(0, HardStateStore::kSlotBytes + 7));
  store = this->open_ok();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->current(), hs(4, 1, 2));
  ASSERT_EQ(store->warnings().size(), 1u);
  EXPECT_THAT(store->warnings()[0], HasSubstr("slot 1"));
  // The next save goes to the damaged slot and repairs the file.
  ASSERT_TRUE(store->save(hs(5, 1, 2)).ok());
  store = this->open_ok();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->current(), hs(5, 1, 2));
  EXPECT_TRUE(store->warnings().empty());
}

// Every bit of the file, flipped in turn: the store returns the newer value,
// or the older one when the flip hit the newer slot; never anything else.
TYPED_TEST(HardStateStoreTest, EveryBitFlipYieldsTheOldOrTheNewValue) {
  const HardState older = hs(7, 2, 40);
  const HardState newer = hs(8, std::nullopt, 41);
  std::unique_ptr<HardStateStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->save(older).ok());
  ASSERT_TRUE(store->save(newer).ok());  // sequence 2: slot 0
  store.reset();
  const uint64_t covered_bytes = 48;  // envelope, body and checksum of a version-1 slot
  uint64_t fell_back = 0;
  for (uint64_t offset = 0; offset < HardStateStore::kFileBytes; ++offset) {
    for (int bit = 0; bit < 8; ++bit) {
      testing::xor_byte(this->fs(), this->file(), offset, static_cast<uint8_t>(1u << bit));
      absl::StatusOr<std::unique_ptr<HardStateStore>> reopened =
          HardStateStore::open(&this->fs(), this->dir());
      ASSERT_TRUE(reopened.ok()) << "offset " << offset << " bit " << bit << ": " << reopened.status();
      const bool hit_newer = offset < covered_bytes;
      const bool hit_older =
          offset >= HardStateStore::kSlotBytes && offset < HardStateStore::kSlotBytes + covered_bytes;
      EXPECT_EQ((*reopened)->current(), hit_newer ? older : newer)
          << "offset " << offset << " bit " << bit << ": " << describe((*reopened)->current());
      EXPECT_EQ((*reopened)->warnings().size(), hit_newer || hit_older ? 1u : 0u) << "offset " << offset;
      fell_back += hit_newer ? 1 : 0;
      testing::xor_byte(this->fs(), this->file(), offset, static_cast<uint8_t>(1u << bit));
    }
  }
  EXPECT_EQ(fell_back, covered_bytes * 8);
}

// A slot with a valid checksum but a sequence of the wrong parity (a write
// that landed in the wrong place) never wins.
TYPED_TEST(HardStateStoreTest, SlotWithSequenceOfTheWrongParityIsIgnored) {
  std::unique_ptr<HardStateStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->save(hs(1, 1, 1)).ok());  // sequence 1: slot 1
  ASSERT_TRUE(store->save(hs(2, 1, 1)).ok());  // sequence 2: slot 0
  store.reset();
  std::string bytes = testing::read_file(this->fs(), this->file());
  bytes.replace(HardStateStore::kSlotBytes, HardStateStore::kSlotBytes,
                encode_hard_state_slot(hs(9, 9, 9), 4));
  testing::write_file(this->fs(), this->file(), bytes);
  store = this->open_ok();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->current(), hs(2, 1, 1));
  ASSERT_EQ(store->warnings().size(), 1u);
  EXPECT_THAT(store->warnings()[0], HasSubstr("does not belong in slot 1"));

  // The largest sequence would make the next save wrap: never accepted.
  bytes.replace(HardStateStore::kSlotBytes, HardStateStore::kSlotBytes,
                encode_hard_state_slot(hs(9, 9, 9), UINT64_MAX));
  testing::write_file(this->fs(), this->file(), bytes);
  store = this->open_ok();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->current(), hs(2, 1, 1));
  EXPECT_TRUE(store->save(hs(3, 1, 1)).ok());
}

// Builds a slot as a future format version might: valid envelope and
// checksum, unknown version.
std::string forged_slot(uint16_t version, uint64_t sequence) {
  std::string slot = encode_hard_state_slot(hs(1, 1, 1), sequence);
  slot[4] = static_cast<char>(version & 0xff);
  slot[5] = static_cast<char>(version >> 8);
  const uint64_t sum = XXH3_64bits(slot.data(), 40);
  for (int i = 0; i < 8; ++i) slot[40 + i] = static_cast<char>(sum >> (8 * i));
  return slot;
}

TYPED_TEST(HardStateStoreTest, NewestSlotOfAnUnknownVersionFailsInsteadOfRollingBack) {
  std::unique_ptr<HardStateStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->save(hs(1, 1, 1)).ok());  // sequence 1: slot 1
  ASSERT_TRUE(store->save(hs(2, 1, 1)).ok());  // sequence 2: slot 0
  store.reset();
  std::string bytes = testing::read_file(this->fs(), this->file());
  bytes.replace(HardStateStore::kSlotBytes, HardStateStore::kSlotBytes, forged_slot(2, 3));
  testing::write_file(this->fs(), this->file(), bytes);
  absl::StatusOr<std::unique_ptr<HardStateStore>> reopened = HardStateStore::open(&this->fs(), this->dir());
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(reopened.status().message(), HasSubstr("format version 2"));

  // The same slot as the OLDER one is harmless: it is overwritten next.
  bytes.replace(HardStateStore::kSlotBytes, HardStateStore::kSlotBytes, forged_slot(2, 1));
  testing::write_file(this->fs(), this->file(), bytes);
  store = this->open_ok();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->current(), hs(2, 1, 1));
}

// ------------------------------------------------------------ SimFileSystem only

constexpr char kSimDir[] = "/node/raft";

// Opens a store on `fs` and saves `states` in order; returns how many saves
// were acknowledged before the first failure.
size_t run_saves(FileSystem* fs, const std::vector<HardState>& states) {
  absl::StatusOr<std::unique_ptr<HardStateStore>> store = HardStateStore::open(fs, kSimDir);
  if (!store.ok()) return 0;
  for (size_t i = 0; i < states.size(); ++i) {
    if (!(*store)->save(states[i]).ok()) return i;
  }
  return states.size();
}

// After a failure or crash during save number `acked` (0-based), recovery
// must give the value of save acked-1 (or the default) or that of save acked.
void expect_old_or_new(const HardState& recovered, const std::vector<HardState>& states, size_t acked,
                       const std::string& context) {
  const HardState old = acked == 0 ? HardState{} : states[acked - 1];
  if (acked == states.size()) {
    EXPECT_EQ(recovered, old) << context << ": got " << describe(recovered);
  } else {
    EXPECT_THAT(recovered, AnyOf(Eq(old), Eq(states[acked])))
        << context << ": got " << describe(recovered) << ", old " << describe(old) << ", new "
        << describe(states[acked]);
  }
}

// Crash after every operation, in two modes: names durable only through the
// store's own sync_dir calls, and names durable at once (eager), where the
// temp file of the first save survives with torn contents.
class HardStateStoreCrashPointTest : public ::testing::TestWithParam<bool> {};
INSTANTIATE_TEST_SUITE_P(Names, HardStateStoreCrashPointTest, ::testing::Values(false, true),
                         ::reef::storage::testing::durability_mode_name);

TEST_P(HardStateStoreCrashPointTest, CrashAfterEveryOperationLeavesTheOldOrTheNewValue) {
  const bool eager = GetParam();
  const std::vector<HardState> states = workload();
  sim::SimFileSystem counting_sim(1);
  CrashPointFileSystem counting(&counting_sim);
  ASSERT_EQ(run_saves(&counting, states), states.size());
  const uint64_t crash_points = counting.operations();
  ASSERT_GT(crash_points, 2 * states.size());

  constexpr uint64_t kSeeds = 32;  // different tears of the same write
  uint64_t cases = 0, recovered_new = 0, torn = 0;
  for (uint64_t budget = 0; budget <= crash_points; ++budget) {
    for (uint64_t seed = 0; seed < kSeeds; ++seed) {
      sim::SimFileSystem sim(budget * 7919 + seed);
      sim.set_faults(sim::SimFaults{.torn_writes = true});
      CrashPointFileSystem crashing(&sim, budget, eager);
      const size_t acked = run_saves(&crashing, states);
      sim.crash();
      torn += sim.stats().torn_writes;
      const std::string context = absl::StrCat("crash after operation ", budget, " seed ", seed);

      absl::StatusOr<std::unique_ptr<HardStateStore>> store = HardStateStore::open(&sim, kSimDir);
      ASSERT_TRUE(store.ok()) << context << ": " << store.status();
      expect_old_or_new((*store)->current(), states, acked, context);
      recovered_new += acked < states.size() && (*store)->current() == states[acked] ? 1 : 0;
      ++cases;

      // The recovered store keeps working: the next save survives a crash.
      const HardState next = hs(1000 + budget, seed + 1, budget);
      ASSERT_TRUE((*store)->save(next).ok()) << context;
      sim.crash();
      store = HardStateStore::open(&sim, kSimDir);
      ASSERT_TRUE(store.ok()) << context << ": " << store.status();
      EXPECT_EQ((*store)->current(), next) << context;
    }
  }
  std::printf(
      "hard state (%s): %llu crash points x %llu seeds = %llu crash cases, %llu torn writes, "
      "%llu recovered the in-flight value\n",
      eager ? "eager names" : "sync_dir only", static_cast<unsigned long long>(crash_points + 1),
      static_cast<unsigned long long>(kSeeds), static_cast<unsigned long long>(cases),
      static_cast<unsigned long long>(torn), static_cast<unsigned long long>(recovered_new));
  EXPECT_GT(torn, 0u);
  EXPECT_GT(recovered_new, 0u);  // the crash points include "after the sync"
}

// An injected EIO on the Nth write or sync: the save fails, the store refuses
// further saves, and both a reopen without crash and one after a crash give
// the old or the new value.
TEST(HardStateStoreCrashTest, IoErrorOnEveryWriteAndSyncLeavesTheOldOrTheNewValue) {
  const std::vector<HardState> states = workload();
  uint64_t cases = 0;
  for (int kind = 0; kind < 2; ++kind) {
    for (uint64_t call = 1;; ++call) {
      sim::SimFileSystem sim(call);
      sim::SimFaults faults;
      faults.torn_writes = true;
      (kind == 0 ? faults.fail_write_call : faults.fail_sync_call) = call;
      sim.set_faults(faults);
      const std::string context = absl::StrCat(kind == 0 ? "write" : "sync", " call ", call);

      absl::StatusOr<std::unique_ptr<HardStateStore>> store = HardStateStore::open(&sim, kSimDir);
      ASSERT_TRUE(store.ok()) << context;
      size_t acked = 0;
      while (acked < states.size() && (*store)->save(states[acked]).ok()) ++acked;
      if (acked == states.size()) break;  // `call` is past the workload
      ++cases;
      absl::Status again = (*store)->save(states[acked]);
      EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition) << context;
      sim.set_faults(sim::SimFaults{.torn_writes = true});

      absl::StatusOr<std::unique_ptr<HardStateStore>> reopened = HardStateStore::open(&sim, kSimDir);
      ASSERT_TRUE(reopened.ok()) << context << ": " << reopened.status();
      expect_old_or_new((*reopened)->current(), states, acked, context + ", no crash");
      sim.crash();
      reopened = HardStateStore::open(&sim, kSimDir);
      ASSERT_TRUE(reopened.ok()) << context << ": " << reopened.status();
      expect_old_or_new((*reopened)->current(), states, acked, context + ", after crash");
    }
  }
  std::printf("hard state: %llu injected I/O error cases\n", static_cast<unsigned long long>(cases));
  EXPECT_GE(cases, 2 * states.size());
}

// Arbitrary file contents: open never crashes; it returns DATA_LOSS, or a
// value only when a slot is intact (here: only the untouched one).
TEST(HardStateStoreDamageTest, RandomContentsGiveAnErrorOrAnIntactSlot) {
  sim::SimFileSystem sim(9);
  ASSERT_EQ(run_saves(&sim, workload()), workload().size());
  const std::string path = join_path(kSimDir, HardStateStore::kFileName);
  const std::string original = *sim.contents(path);
  raft::Prng prng(17);
  for (int round = 0; round < 3000; ++round) {
    std::string damaged = original;
    const int mode = static_cast<int>(prng.below(3));
    if (mode == 0) {  // random garbage of a random size
      damaged.resize(prng.below(2 * HardStateStore::kFileBytes));
      for (char& c : damaged) c = static_cast<char>(prng.below(256));
    } else {  // damage within one slot only
      const uint64_t slot = prng.below(2);
      for (int i = 0; i < 4; ++i) {
        damaged[slot * HardStateStore::kSlotBytes + prng.below(48)] = static_cast<char>(prng.below(256));
      }
    }
    testing::write_file(sim, path, damaged);
    absl::StatusOr<std::unique_ptr<HardStateStore>> store = HardStateStore::open(&sim, kSimDir);
    if (!store.ok()) {
      EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << round << ": " << store.status();
      EXPECT_EQ(mode, 0) << round << ": one damaged slot must leave the other readable";
      continue;
    }
    const std::vector<HardState> states = workload();
    EXPECT_THAT((*store)->current(), AnyOf(Eq(states[states.size() - 1]), Eq(states[states.size() - 2])))
        << round << ": " << describe((*store)->current());
  }
  testing::write_file(sim, path, original);
}

TEST(HardStateStoreCrashTest, ReadErrorAtOpenIsReportedNotTreatedAsFresh) {
  sim::SimFileSystem sim(3);
  ASSERT_EQ(run_saves(&sim, workload()), workload().size());
  sim.set_faults(sim::SimFaults{.fail_read_call = sim.stats().reads + 1});
  absl::StatusOr<std::unique_ptr<HardStateStore>> store = HardStateStore::open(&sim, kSimDir);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace reef::storage
