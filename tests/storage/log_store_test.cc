// LogStore: round trips, segment rolling, truncation, compaction and reopen on
// both backends; torn tails written by hand are cut and reported; damage
// anywhere else (every single flipped byte of a segment that is not the last
// and of the last segment's records before its tail, a missing segment, a
// misnamed segment) is DATA_LOSS, never a wrong entry. On SimFileSystem, a
// workload of appends, truncations and compactions crashes after every single
// file-system operation (with and without torn writes, with names made
// durable eagerly or only by sync_dir) and recovery must match a model.
#include "storage/log_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "raft/core/random.h"
#include "sim/sim_file_system.h"
#include "tests/storage/crash_point_file_system.h"
#include "tests/storage/store_test_backends.h"

namespace reef::storage {
namespace {

using raft::EntryType;
using raft::Index;
using raft::LogEntry;
using raft::Term;
using testing::CrashPointFileSystem;

LogEntry entry(uint64_t index, uint64_t term, size_t payload_bytes = 40, uint64_t generation = 0) {
  LogEntry e;
  e.index = Index(index);
  e.term = Term(term);
  e.type = payload_bytes == 0 ? EntryType::kNoop : EntryType::kNormal;
  std::string payload = absl::StrCat("i", index, "t", term, "g", generation, ":");
  while (payload.size() < payload_bytes) payload += static_cast<char>('a' + payload.size() % 26);
  payload.resize(payload_bytes);
  e.payload = payload;
  return e;
}

std::vector<LogEntry> entries(uint64_t first, uint64_t count, uint64_t term, size_t payload_bytes = 40,
                              uint64_t generation = 0) {
  std::vector<LogEntry> out;
  for (uint64_t i = 0; i < count; ++i) out.push_back(entry(first + i, term, payload_bytes, generation));
  return out;
}

std::vector<LogEntry> read_all(LogStore& store) {
  if (store.empty()) return {};
  absl::StatusOr<std::vector<LogEntry>> all = store.read(store.first_index(), store.last_index().next());
  EXPECT_TRUE(all.ok()) << all.status();
  return all.ok() ? *all : std::vector<LogEntry>{};
}

template <typename Backend>
class LogStoreTest : public ::testing::Test {
 protected:
  std::string dir() const { return backend_.root() + "/log"; }
  FileSystem& fs() { return backend_.fs(); }
  std::string seg(uint64_t first) const { return join_path(dir(), LogStore::segment_name(Index(first))); }

  std::unique_ptr<LogStore> open_ok(LogStoreOptions options = {}) {
    absl::StatusOr<std::unique_ptr<LogStore>> store = LogStore::open(fs(), dir(), options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }
  absl::Status open_status(LogStoreOptions options = {}) {
    return LogStore::open(fs(), dir(), options).status();
  }
  std::vector<std::string> files() {
    absl::StatusOr<std::vector<std::string>> names = fs().list(dir());
    EXPECT_TRUE(names.ok()) << names.status();
    return names.ok() ? *names : std::vector<std::string>{};
  }

  Backend backend_;
};
TYPED_TEST_SUITE(LogStoreTest, testing::StoreBackends, testing::StoreBackendNames);

LogStoreOptions small_segments(uint64_t bytes = 300) {
  LogStoreOptions options;
  options.segment_bytes = bytes;
  options.max_entry_bytes = 4096;
  return options;
}

// Segments that end exactly at their last record (no reserved space), as a
// store without preallocation writes them: the layouts the tests below edit
// by hand, where a torn write lands at the end of the file.
LogStoreOptions exact_segments(uint64_t bytes = 300) {
  LogStoreOptions options = small_segments(bytes);
  options.preallocate = false;
  return options;
}

// Configuration entries keep their configuration across a reopen; an
// entry of that type without one is refused before it reaches the disk.
TYPED_TEST(LogStoreTest, ConfigurationEntriesSurviveAReopen) {
  std::vector<LogEntry> log = entries(1, 3, 1);
  log[1].type = EntryType::kConfiguration;
  log[1].payload.clear();
  raft::Configuration joint = raft::Configuration::of_voters({raft::NodeId(1), raft::NodeId(2), raft::NodeId(4)},
                                                             {raft::NodeId(3)});
  joint.outgoing_voters = raft::MajorityConfig({raft::NodeId(1), raft::NodeId(2), raft::NodeId(3)});
  log[1].configuration = joint;
  {
    std::unique_ptr<LogStore> store = this->open_ok();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->append(log).ok());
    LogEntry bare = entry(4, 1);
    bare.type = EntryType::kConfiguration;
    EXPECT_EQ(store->append({bare}).code(), absl::StatusCode::kInvalidArgument);
  }
  std::unique_ptr<LogStore> reopened = this->open_ok();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(read_all(*reopened), log);
}

TYPED_TEST(LogStoreTest, EmptyLogOpensEmpty) {
  std::unique_ptr<LogStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->empty());
  EXPECT_EQ(store->first_index(), Index(0));
  EXPECT_EQ(store->last_index(), Index(0));
  EXPECT_EQ(store->term_at(Index(1)).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(store->read(Index(1), Index(1)).ok());
}

TYPED_TEST(LogStoreTest, RoundTripAndReopen) {
  std::vector<LogEntry> want = entries(5, 3, 1);
  want.push_back(entry(8, 2, 0));  // a no-op with an empty payload
  for (LogEntry& e : entries(9, 4, 2, 1000)) want.push_back(e);
  {
    std::unique_ptr<LogStore> store = this->open_ok();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->append({want.begin(), want.begin() + 3}).ok());
    ASSERT_TRUE(store->append({want.begin() + 3, want.end()}).ok());
    EXPECT_EQ(store->first_index(), Index(5));
    EXPECT_EQ(store->last_index(), Index(12));
    EXPECT_EQ(read_all(*store), want);
    EXPECT_EQ(*store->term_at(Index(7)), Term(1));
    EXPECT_EQ(*store->term_at(Index(12)), Term(2));
    absl::StatusOr<std::vector<LogEntry>> middle = store->read(Index(7), Index(10));
    ASSERT_TRUE(middle.ok()) << middle.status();
    EXPECT_EQ(*middle, std::vector<LogEntry>(want.begin() + 2, want.begin() + 5));
    EXPECT_EQ(store->read(Index(4), Index(6)).status().code(), absl::StatusCode::kOutOfRange);
    EXPECT_EQ(store->read(Index(5), Index(14)).status().code(), absl::StatusCode::kOutOfRange);
  }
  std::unique_ptr<LogStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->recovery_report().cut_tail.has_value());
  EXPECT_EQ(store->recovery_report().entries, want.size());
  EXPECT_EQ(read_all(*store), want);
  ASSERT_TRUE(store->append(entries(13, 2, 3)).ok());
  EXPECT_EQ(store->last_index(), Index(14));
}

// Recovery reads a segment in 1 MiB windows; records that straddle a window
// edge make it read the next window. Regression: the record header was a
// view into the replaced window (a use-after-free that crashed recovery
// of every segment past 1 MiB once the freed window was unmapped).
TYPED_TEST(LogStoreTest, ReopensASegmentLargerThanTheRecoveryReadWindow) {
  std::vector<LogEntry> want;
  {
    std::unique_ptr<LogStore> store = this->open_ok();
    ASSERT_NE(store, nullptr);
    for (uint64_t first = 1; first <= 3000; first += 100) {
      std::vector<LogEntry> batch = entries(first, 100, 1, 997);  // odd size: edges fall mid-record
      ASSERT_TRUE(store->append(batch).ok());
      want.insert(want.end(), batch.begin(), batch.end());
    }
  }
  std::unique_ptr<LogStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->recovery_report().cut_tail.has_value());
  EXPECT_EQ(store->recovery_report().entries, want.size());
  EXPECT_EQ(read_all(*store), want);
}

TYPED_TEST(LogStoreTest, RejectsBadAppends) {
  std::unique_ptr<LogStore> store = this->open_ok(small_segments());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->append({entry(0, 1)}).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(store->append(entries(1, 2, 2)).ok());
  EXPECT_EQ(store->append({entry(4, 2)}).code(), absl::StatusCode::kInvalidArgument);  // gap
  EXPECT_EQ(store->append({entry(3, 1)}).code(), absl::StatusCode::kInvalidArgument);  // term goes back
  EXPECT_EQ(store->append({entry(3, 2), entry(5, 2)}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->append({entry(3, 2, 5000)}).code(), absl::StatusCode::kInvalidArgument);  // too big
  EXPECT_EQ(store->last_index(), Index(2));
  ASSERT_TRUE(store->append({entry(3, 2)}).ok());  // rejected appends change nothing
  EXPECT_EQ(read_all(*store), entries(1, 3, 2));
}

TYPED_TEST(LogStoreTest, SegmentsRollAndAnOversizedRecordGoesAlone) {
  std::vector<LogEntry> want = entries(1, 10, 1, 60);
  want.push_back(entry(11, 1, 2000));  // bigger than a segment
  for (LogEntry& e : entries(12, 3, 1, 60)) want.push_back(e);
  {
    std::unique_ptr<LogStore> store = this->open_ok(small_segments());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->append({want.begin(), want.begin() + 4}).ok());
    ASSERT_TRUE(store->append({want.begin() + 4, want.end()}).ok());  // rolls inside the batch
    EXPECT_GE(store->segment_count(), 4u);
    EXPECT_EQ(read_all(*store), want);
  }
  std::vector<std::string> names = this->files();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.front(), LogStore::segment_name(Index(1)));
  EXPECT_NE(std::find(names.begin(), names.end(), LogStore::segment_name(Index(11))), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), LogStore::segment_name(Index(12))), names.end());
  for (const std::string& name : names) {
    const std::string data = testing::read_file(this->fs(), join_path(this->dir(), name));
    if (name != LogStore::segment_name(Index(11))) {
      EXPECT_LE(data.size(), 300u) << name;
    }
  }
  std::unique_ptr<LogStore> store = this->open_ok(small_segments());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->segment_count(), names.size());
  EXPECT_EQ(read_all(*store), want);
  EXPECT_EQ(*store->term_at(Index(11)), Term(1));
  absl::StatusOr<std::vector<LogEntry>> across = store->read(Index(3), Index(13));  // spans segments
  ASSERT_TRUE(across.ok()) << across.status();
  EXPECT_EQ(*across, std::vector<LogEntry>(want.begin() + 2, want.begin() + 12));
}

TYPED_TEST(LogStoreTest, TruncateSuffixWithinAndAcrossSegments) {
  std::unique_ptr<LogStore> store = this->open_ok(small_segments());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->append(entries(1, 20, 1, 60)).ok());
  const size_t segments = store->segment_count();
  ASSERT_GE(segments, 4u);
  ASSERT_TRUE(store->truncate_suffix(Index(25)).ok());  // past the end: nothing
  EXPECT_EQ(store->last_index(), Index(20));
  ASSERT_TRUE(store->truncate_suffix(Index(19)).ok());  // within the last segment
  EXPECT_EQ(store->last_index(), Index(18));
  ASSERT_TRUE(store->truncate_suffix(Index(6)).ok());  // across segments
  EXPECT_EQ(store->last_index(), Index(5));
  EXPECT_LT(store->segment_count(), segments);
  std::vector<LogEntry> want = entries(1, 5, 1, 60);
  EXPECT_EQ(read_all(*store), want);
  ASSERT_TRUE(store->append(entries(6, 3, 2, 60, 1)).ok());
  for (LogEntry& e : entries(6, 3, 2, 60, 1)) want.push_back(e);
  EXPECT_EQ(read_all(*store), want);
  store.reset();
  store = this->open_ok(small_segments());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(read_all(*store), want);
  // From the first index on, every segment goes.
  ASSERT_TRUE(store->truncate_suffix(Index(1)).ok());
  EXPECT_TRUE(store->empty());
  EXPECT_TRUE(this->files().empty());
  ASSERT_TRUE(store->append(entries(40, 2, 3)).ok());  // an empty log starts anywhere
  store.reset();
  store = this->open_ok(small_segments());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(read_all(*store), entries(40, 2, 3));
}

TYPED_TEST(LogStoreTest, CompactPrefixRemovesWholeSegmentsButNeverTheLast) {
  std::unique_ptr<LogStore> store = this->open_ok(small_segments());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->append(entries(1, 20, 1, 60)).ok());
  const size_t segments = store->segment_count();
  ASSERT_TRUE(store->compact_prefix(Index(0)).ok());
  EXPECT_EQ(store->segment_count(), segments);
  ASSERT_TRUE(store->compact_prefix(Index(7)).ok());
  EXPECT_LE(store->first_index(), Index(8));
  EXPECT_GT(store->first_index(), Index(1));
  const Index first = store->first_index();
  EXPECT_EQ(read_all(*store), entries(first.value(), 20 - first.value() + 1, 1, 60));
  ASSERT_TRUE(store->compact_prefix(Index(1000)).ok());
  EXPECT_EQ(store->segment_count(), 1u);
  EXPECT_EQ(store->last_index(), Index(20));
  const Index kept = store->first_index();
  store.reset();
  store = this->open_ok(small_segments());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->first_index(), kept);
  EXPECT_EQ(read_all(*store), entries(kept.value(), 20 - kept.value() + 1, 1, 60));
}

// Appends `bytes` to `path` durably, as a torn write may leave them.
template <typename Fixture>
void append_raw(Fixture* t, const std::string& path, absl::string_view bytes) {
  const std::string data = testing::read_file(t->fs(), path);
  testing::write_file(t->fs(), path, absl::StrCat(data, bytes));
}

TYPED_TEST(LogStoreTest, TornTailsAreCutAndReported) {
  const LogStoreOptions options = exact_segments(100000);
  {
    std::unique_ptr<LogStore> store = this->open_ok(options);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->append(entries(1, 5, 1)).ok());
  }
  const std::string path = this->seg(1);
  const std::string good = testing::read_file(this->fs(), path);
  // The encoding of entry 6, produced by a scratch store.
  std::string record;
  {
    const std::string scratch_dir = this->dir() + "-scratch";
    absl::StatusOr<std::unique_ptr<LogStore>> scratch = LogStore::open(this->fs(), scratch_dir, options);
    ASSERT_TRUE(scratch.ok());
    ASSERT_TRUE((*scratch)->append({entry(6, 1)}).ok());
    record = testing::read_file(this->fs(), join_path(scratch_dir, LogStore::segment_name(Index(6))));
  }
  std::vector<std::string> tails = {
      record.substr(0, 5),                                                            // partial header
      record.substr(0, record.size() - 1),                                            // partial body
      record.substr(0, 20) + std::string(700, '\0'),                                  // header, then zeros
      record.substr(0, record.size() - 1) + static_cast<char>(record.back() ^ 0x40),  // bad checksum
      "\x01\xff\xff\xff\x7f garbage",                                                 // absurd length
  };
  for (size_t i = 0; i < tails.size(); ++i) {
    testing::write_file(this->fs(), path, good + tails[i]);
    std::unique_ptr<LogStore> store = this->open_ok(options);
    ASSERT_NE(store, nullptr) << "tail " << i;
    ASSERT_TRUE(store->recovery_report().cut_tail.has_value()) << "tail " << i;
    EXPECT_EQ(store->recovery_report().cut_tail->path, path);
    EXPECT_EQ(store->recovery_report().cut_tail->offset, good.size());
    // Zeros at the end of the tail hold nothing and are not counted.
    EXPECT_EQ(store->recovery_report().cut_tail->bytes, tails[i].find_last_not_of('\0') + 1) << "tail " << i;
    EXPECT_EQ(read_all(*store), entries(1, 5, 1)) << "tail " << i;
    EXPECT_EQ(testing::read_file(this->fs(), path), good);
    ASSERT_TRUE(store->append({entry(6, 1)}).ok());
    store.reset();
    store = this->open_ok(options);
    ASSERT_NE(store, nullptr);
    EXPECT_FALSE(store->recovery_report().cut_tail.has_value());
    EXPECT_EQ(read_all(*store), entries(1, 6, 1));
  }
}

// Preallocation: a new segment is reserved whole, records go into the
// reserved space, a segment the log has moved past is trimmed to its
// records, and the zeros after the last record are the log's end, kept for
// the next appends, not damage.
TYPED_TEST(LogStoreTest, SegmentsAreReservedAndTrimmedWhenTheLogMovesOn) {
  const LogStoreOptions options = small_segments(4096);
  ASSERT_TRUE(options.preallocate);
  {
    std::unique_ptr<LogStore> store = this->open_ok(options);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->append(entries(1, 3, 1)).ok());
    EXPECT_EQ(testing::read_file(this->fs(), this->seg(1)).size(), 4096u) << "reserved whole";
  }
  const std::string reserved = testing::read_file(this->fs(), this->seg(1));
  const size_t records_end = reserved.find_last_not_of('\0') + 1;
  {
    std::unique_ptr<LogStore> store = this->open_ok(options);
    ASSERT_NE(store, nullptr);
    EXPECT_FALSE(store->recovery_report().cut_tail.has_value()) << "unused space is no torn tail";
    EXPECT_EQ(read_all(*store), entries(1, 3, 1));
    ASSERT_TRUE(store->append(entries(4, 2, 1)).ok());
    EXPECT_EQ(testing::read_file(this->fs(), this->seg(1)).size(), 4096u) << "written into the reserved space";
    // 40 records of ~110 bytes: the log moves on to new segments.
    ASSERT_TRUE(store->append(entries(6, 40, 2)).ok());
    ASSERT_GE(store->segment_count(), 2u);
  }
  const std::vector<std::string> names = this->files();
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string data = testing::read_file(this->fs(), join_path(this->dir(), names[i]));
    if (i + 1 < names.size()) {
      EXPECT_NE(data.back(), '\0') << names[i] << ": a segment the log moved past ends at its last record";
      EXPECT_LE(data.size(), 4096u);
    } else {
      EXPECT_EQ(data.size(), 4096u) << names[i] << ": the last segment keeps its reserved space";
    }
  }
  EXPECT_GT(records_end, 0u);
  std::unique_ptr<LogStore> store = this->open_ok(options);
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->recovery_report().cut_tail.has_value());
  std::vector<LogEntry> want = entries(1, 5, 1);
  for (const LogEntry& e : entries(6, 40, 2)) want.push_back(e);
  EXPECT_EQ(read_all(*store), want);
}

// A crash while writing into reserved space leaves a partial record followed
// by zeros: cut from the end of the last whole record, which is where the
// next append then writes.
TYPED_TEST(LogStoreTest, TornWriteIntoReservedSpaceIsCut) {
  const LogStoreOptions options = small_segments(4096);
  {
    std::unique_ptr<LogStore> store = this->open_ok(options);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->append(entries(1, 3, 1)).ok());
  }
  std::string data = testing::read_file(this->fs(), this->seg(1));
  const size_t records_end = data.find_last_not_of('\0') + 1;
  // The first 20 bytes of a record header plus body, as a torn write leaves them.
  const std::string first_record = data.substr(0, 20);
  data.replace(records_end, first_record.size(), first_record);
  testing::write_file(this->fs(), this->seg(1), data);
  {
    std::unique_ptr<LogStore> store = this->open_ok(options);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->recovery_report().cut_tail.has_value());
    EXPECT_EQ(store->recovery_report().cut_tail->offset, records_end);
    EXPECT_EQ(store->recovery_report().cut_tail->bytes, first_record.size()) << "the torn bytes, not the zeros";
    EXPECT_EQ(testing::read_file(this->fs(), this->seg(1)).size(), 4096u) << "reserved again";
    EXPECT_EQ(read_all(*store), entries(1, 3, 1));
    ASSERT_TRUE(store->append(entries(4, 1, 1)).ok());
  }
  std::unique_ptr<LogStore> store = this->open_ok(options);
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->recovery_report().cut_tail.has_value());
  EXPECT_EQ(read_all(*store), entries(1, 4, 1));
}

// Only the last segment may hold unused space: zeros after the records of an
// earlier one are damage (the log never leaves a segment untrimmed).
TYPED_TEST(LogStoreTest, ZerosAfterANonLastSegmentAreDataLoss) {
  const LogStoreOptions options = small_segments(300);
  {
    std::unique_ptr<LogStore> store = this->open_ok(options);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->append(entries(1, 6, 1)).ok());
    ASSERT_GE(store->segment_count(), 2u);
  }
  const std::string first = testing::read_file(this->fs(), this->seg(1));
  testing::write_file(this->fs(), this->seg(1), first + std::string(200, '\0'));
  const absl::Status status = this->open_status(options);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_NE(status.message().find("not the last"), absl::string_view::npos) << status;
}

TYPED_TEST(LogStoreTest, EmptyLastSegmentIsRemoved) {
  {
    std::unique_ptr<LogStore> store = this->open_ok(exact_segments());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->append(entries(1, 3, 1)).ok());
  }
  testing::write_file(this->fs(), this->seg(4), "");
  std::unique_ptr<LogStore> store = this->open_ok(exact_segments());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->recovery_report().removed_empty_segments, std::vector<std::string>{this->seg(4)});
  EXPECT_EQ(read_all(*store), entries(1, 3, 1));
  ASSERT_TRUE(store->append(entries(4, 1, 1)).ok());
}

// open_read_only runs recovery's scan but changes nothing: a torn tail and an
// empty last segment are reported, not cut or removed, and writes are refused.
TYPED_TEST(LogStoreTest, OpenReadOnlyReportsButNeverModifies) {
  EXPECT_EQ(LogStore::open_read_only(this->fs(), this->dir()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(*this->fs().exists(this->dir()));
  {
    std::unique_ptr<LogStore> store = this->open_ok(exact_segments());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->append(entries(1, 6, 1)).ok());
    ASSERT_GE(store->segment_count(), 2u);
  }
  const std::vector<std::string> names = this->files();
  const std::string last = join_path(this->dir(), names.back());
  testing::write_file(this->fs(), this->seg(7), "");
  {
    absl::StatusOr<std::unique_ptr<LogStore>> store =
        LogStore::open_read_only(this->fs(), this->dir(), exact_segments());
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->recovery_report().removed_empty_segments, std::vector<std::string>{this->seg(7)});
    EXPECT_EQ((*store)->last_index(), Index(6));
    EXPECT_TRUE(*this->fs().exists(this->seg(7)));
  }
  ASSERT_TRUE(this->fs().remove(this->seg(7)).ok());
  const std::string torn = testing::read_file(this->fs(), last) + std::string("\x01\x02", 2);
  testing::write_file(this->fs(), last, torn);
  absl::StatusOr<std::unique_ptr<LogStore>> store =
      LogStore::open_read_only(this->fs(), this->dir(), exact_segments());
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->recovery_report().cut_tail.has_value());
  EXPECT_EQ((*store)->recovery_report().cut_tail->bytes, 2u);
  EXPECT_EQ((*store)->recovery_report().entries, 6u);
  EXPECT_EQ(read_all(**store), entries(1, 6, 1));
  EXPECT_EQ(testing::read_file(this->fs(), last), torn);
  EXPECT_EQ((*store)->append({entry(7, 1)}).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*store)->truncate_suffix(Index(2)).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*store)->compact_prefix(Index(6)).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(this->files(), names);
  EXPECT_EQ(testing::read_file(this->fs(), last), torn);
}

// Structural damage: each is DATA_LOSS naming the file, and nothing on disk changes.
TYPED_TEST(LogStoreTest, MissingMisnamedAndEmptySegmentsAreDataLoss) {
  {
    std::unique_ptr<LogStore> store = this->open_ok(small_segments());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->append(entries(1, 20, 1, 60)).ok());
    ASSERT_GE(store->segment_count(), 4u);
  }
  std::vector<std::string> names = this->files();
  const std::string second = join_path(this->dir(), names[1]);
  const std::string second_data = testing::read_file(this->fs(), second);
  auto expect_loss = [&](absl::string_view what, absl::string_view names_file) {
    absl::Status status = this->open_status(small_segments());
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << what << ": " << status;
    EXPECT_NE(status.message().find(names_file), absl::string_view::npos) << what << ": " << status;
    EXPECT_NE(status.message().find("index"), absl::string_view::npos) << what << ": " << status;
  };

  ASSERT_TRUE(this->fs().remove(second).ok());  // missing segment: a gap
  expect_loss("missing", names[2]);
  testing::write_file(this->fs(), second, "");  // empty segment that is not the last
  expect_loss("empty", names[1]);
  testing::write_file(this->fs(), second, second_data);
  // A segment whose first index does not match its name (its records start at 1).
  const std::string first = join_path(this->dir(), names[0]);
  const std::string first_data = testing::read_file(this->fs(), first);
  const std::string misnamed = join_path(this->dir(), LogStore::segment_name(Index(2)));
  ASSERT_TRUE(this->fs().remove(first).ok());
  testing::write_file(this->fs(), misnamed, first_data);
  expect_loss("misnamed", LogStore::segment_name(Index(2)));
  ASSERT_TRUE(this->fs().remove(misnamed).ok());
  testing::write_file(this->fs(), first, first_data);
  // Overlapping segments: the second one renamed one index too low.
  const std::string overlap = join_path(this->dir(), LogStore::segment_name(Index(2)));
  ASSERT_TRUE(this->fs().remove(second).ok());
  testing::write_file(this->fs(), overlap, second_data);
  expect_loss("overlap", LogStore::segment_name(Index(2)));
  ASSERT_TRUE(this->fs().remove(overlap).ok());
  testing::write_file(this->fs(), second, second_data);
  std::unique_ptr<LogStore> store = this->open_ok(small_segments());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(read_all(*store), entries(1, 20, 1, 60));
}

// Flips every byte (one at a time) of the first segment (not the last) and of
// the last segment; each flip is DATA_LOSS, except that a flip in the final
// record may be cut as a torn tail. A successful open never returns a wrong entry.
TYPED_TEST(LogStoreTest, EveryFlippedByteIsDetected) {
  const LogStoreOptions options = exact_segments(350);  // three records per segment
  std::vector<LogEntry> want;
  {
    std::unique_ptr<LogStore> store = this->open_ok(options);
    ASSERT_NE(store, nullptr);
    for (uint64_t i = 1; i <= 9; ++i) ASSERT_TRUE(store->append({entry(i, 1 + i / 4, 30)}).ok());
    ASSERT_EQ(store->segment_count(), 3u);
    want = read_all(*store);
  }
  const std::vector<std::string> names = this->files();
  uint64_t flips = 0, data_loss = 0, cut = 0;
  for (const std::string& name : {names.front(), names.back()}) {
    const bool last = name == names.back();
    const std::string path = join_path(this->dir(), name);
    const std::string original = testing::read_file(this->fs(), path);
    // Offset of the final record of the last segment: where a cut may start.
    uint64_t final_record = original.size();
    if (last) {
      std::unique_ptr<LogStore> store = this->open_ok(options);
      ASSERT_NE(store, nullptr);
      const uint64_t last_first = store->last_index().value();
      // The final record's size: the same entry alone in a scratch store.
      absl::StatusOr<std::vector<LogEntry>> tail = store->read(Index(last_first), Index(last_first + 1));
      ASSERT_TRUE(tail.ok());
      final_record = original.size() - [&] {
        const std::string scratch_dir = this->dir() + "-scratch";
        absl::StatusOr<std::unique_ptr<LogStore>> scratch = LogStore::open(this->fs(), scratch_dir, options);
        EXPECT_TRUE(scratch.ok());
        EXPECT_TRUE((*scratch)->append(*tail).ok());
        return testing::read_file(this->fs(),
                                  join_path(scratch_dir, LogStore::segment_name(Index(last_first))))
            .size();
      }();
    }
    for (uint64_t offset = 0; offset < original.size(); ++offset) {
      testing::xor_byte(this->fs(), path, offset, 0xff);
      ++flips;
      absl::StatusOr<std::unique_ptr<LogStore>> store = LogStore::open(this->fs(), this->dir(), options);
      const std::string context = absl::StrCat(name, " byte ", offset);
      if (store.ok()) {
        ++cut;
        EXPECT_TRUE(last && offset >= final_record) << context << " was not detected";
        ASSERT_TRUE((*store)->recovery_report().cut_tail.has_value()) << context;
        EXPECT_EQ((*store)->recovery_report().cut_tail->offset, final_record) << context;
        EXPECT_EQ(read_all(**store), std::vector<LogEntry>(want.begin(), want.end() - 1)) << context;
      } else {
        ++data_loss;
        EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << context << ": " << store.status();
        EXPECT_NE(store.status().message().find(name), absl::string_view::npos) << store.status();
        EXPECT_NE(store.status().message().find("indexes "), absl::string_view::npos) << store.status();
      }
      testing::write_file(this->fs(), path, original);
    }
  }
  std::printf("flipped %llu bytes: %llu DATA_LOSS, %llu cut as torn tail\n",
              static_cast<unsigned long long>(flips), static_cast<unsigned long long>(data_loss),
              static_cast<unsigned long long>(cut));
  EXPECT_GT(data_loss, 2 * cut);  // two segments' worth against one final record
  std::unique_ptr<LogStore> store = this->open_ok(options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(read_all(*store), want);
}

// An I/O error at any write or sync of an append refuses further changes;
// a reopen (after a crash) recovers the acknowledged entries, perhaps plus the
// failed batch, never anything else.
TEST(LogStoreSimTest, IoErrorsPoisonTheStoreAndReopenRecovers) {
  for (uint64_t call = 1; call <= 6; ++call) {
    for (bool sync_error : {false, true}) {
      sim::SimFileSystem sim(call);
      absl::StatusOr<std::unique_ptr<LogStore>> store = LogStore::open(sim, "/log", small_segments(300));
      ASSERT_TRUE(store.ok());
      sim::SimFaults faults;
      if (sync_error) {
        faults.fail_sync_call = sim.stats().syncs + call;
      } else {
        faults.fail_write_call = sim.stats().writes + call;
      }
      sim.set_faults(faults);
      std::vector<LogEntry> acked;
      absl::Status failed;
      std::vector<LogEntry> batch;
      for (uint64_t i = 0; i < 8 && failed.ok(); ++i) {
        batch = entries(1 + 3 * i, 3, 1, 50);
        failed = (*store)->append(batch);
        if (failed.ok()) acked.insert(acked.end(), batch.begin(), batch.end());
      }
      const std::string context = absl::StrCat("call ", call, sync_error ? " sync" : " write");
      ASSERT_FALSE(failed.ok()) << context;
      EXPECT_EQ((*store)->append(entries(acked.size() + 1, 1, 1)).code(), failed.code()) << context;
      EXPECT_FALSE((*store)->truncate_suffix(Index(1)).ok()) << context;
      EXPECT_FALSE((*store)->read(Index(1), Index(2)).ok()) << context;
      store->reset();
      sim.set_faults({});
      sim.crash();
      store = LogStore::open(sim, "/log", small_segments(300));
      ASSERT_TRUE(store.ok()) << context << ": " << store.status();
      const std::vector<LogEntry> got = read_all(**store);
      std::vector<LogEntry> with_batch = acked;
      with_batch.insert(with_batch.end(), batch.begin(), batch.end());
      ASSERT_GE(got.size(), acked.size()) << context;
      EXPECT_TRUE(std::equal(got.begin(), got.end(), with_batch.begin())) << context;
    }
  }
}

// Arbitrary segment contents (random bytes, and valid segments with random
// bytes spliced in): open never crashes; it recovers entries that read back
// or fails with DATA_LOSS.
TEST(LogStoreSimTest, ArbitrarySegmentBytesNeverCrashRecovery) {
  raft::Prng prng(4242);
  std::string valid;
  {
    sim::SimFileSystem scratch(1);
    // The records alone: the rounds below decide what follows them.
    absl::StatusOr<std::unique_ptr<LogStore>> store = LogStore::open(scratch, "/log", exact_segments(1 << 20));
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->append(entries(1, 6, 1, 30)).ok());
    valid = *scratch.contents(join_path("/log", LogStore::segment_name(Index(1))));
  }
  uint64_t recovered = 0, data_loss = 0;
  for (int round = 0; round < 400; ++round) {
    sim::SimFileSystem sim(static_cast<uint64_t>(round));
    std::string bytes = valid;
    if (round % 2 == 0) {
      bytes.resize(prng.below(600));
      for (char& c : bytes) c = static_cast<char>(prng.below(256));
    } else {
      for (uint64_t n = prng.below(4) + 1; n > 0; --n)
        bytes[prng.below(bytes.size())] = static_cast<char>(prng.below(256));
      bytes.resize(prng.below(bytes.size() + 1));
    }
    ASSERT_TRUE(sim.create_dir("/log").ok());
    testing::write_file(sim, join_path("/log", LogStore::segment_name(Index(1 + prng.below(3)))), bytes);
    // Small segments: a cut tail is followed by reserving the segment again.
    absl::StatusOr<std::unique_ptr<LogStore>> store = LogStore::open(sim, "/log", small_segments(4096));
    if (store.ok()) {
      ++recovered;
      const std::vector<LogEntry> got = read_all(**store);
      const std::vector<LogEntry> all = entries(1, 6, 1, 30);
      EXPECT_TRUE(got.size() <= all.size() && std::equal(got.begin(), got.end(), all.begin())) << round;
    } else {
      ++data_loss;
      EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
    }
  }
  EXPECT_GT(recovered, 0u);
  EXPECT_GT(data_loss, 0u);
}

TEST(LogStoreSimTest, DamageAfterOpenIsDataLossOnRead) {
  sim::SimFileSystem sim(7);
  absl::StatusOr<std::unique_ptr<LogStore>> store = LogStore::open(sim, "/log");
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->append(entries(1, 4, 1)).ok());
  ASSERT_TRUE(sim.flip_bit(join_path("/log", LogStore::segment_name(Index(1))), 70, 3).ok());
  absl::StatusOr<std::vector<LogEntry>> all = (*store)->read(Index(1), Index(5));
  EXPECT_EQ(all.status().code(), absl::StatusCode::kDataLoss) << all.status();
}

// ---------------------------------------------------------------- crash points

struct Op {
  enum Kind { kAppend, kTruncate, kCompact } kind;
  uint64_t count = 0;  // kAppend: entries; kTruncate: entries to drop from the end
  uint64_t keep = 0;   // kCompact: entries the requested up_to leaves after it
  size_t payload = 0;
};

const std::vector<Op>& workload() {
  static const std::vector<Op> ops = {
      {Op::kAppend, 3, 0, 40},  {Op::kAppend, 1, 0, 0},  {Op::kAppend, 5, 0, 70}, {Op::kTruncate, 2, 0, 0},
      {Op::kAppend, 4, 0, 90},  {Op::kCompact, 0, 6, 0}, {Op::kAppend, 6, 0, 50}, {Op::kTruncate, 7, 0, 0},
      {Op::kAppend, 2, 0, 300}, {Op::kCompact, 0, 2, 0}, {Op::kAppend, 3, 0, 20}, {Op::kTruncate, 30, 0, 0},
      {Op::kAppend, 2, 0, 60},  {Op::kAppend, 8, 0, 90}, {Op::kCompact, 0, 3, 0}, {Op::kTruncate, 5, 0, 0},
      {Op::kAppend, 2, 0, 700},
  };
  return ops;
}

// What a crash during the workload may leave: the log as of the last
// acknowledged operation, plus the operation in flight.
struct CrashModel {
  std::vector<LogEntry> log;  // acknowledged state
  std::optional<Op> in_flight;
  std::vector<LogEntry> batch;  // kAppend in flight
  uint64_t argument = 0;        // truncate from / compact up_to in flight
  size_t acked_ops = 0;
  size_t max_segments = 0;    // to show the workload rolls segments
  uint64_t compacted_to = 0;  // and compacts them
};

CrashModel run_workload(FileSystem* fs, const LogStoreOptions& options) {
  CrashModel model;
  absl::StatusOr<std::unique_ptr<LogStore>> opened = LogStore::open(*fs, "/log", options);
  if (!opened.ok()) return model;
  LogStore& store = **opened;
  uint64_t next = 1, term = 1, generation = 0;
  for (const Op& op : workload()) {
    model.in_flight = op;
    ++generation;
    absl::Status status;
    if (op.kind == Op::kAppend) {
      model.batch = entries(next, op.count, term, op.payload, generation);
      status = store.append(model.batch);
      if (status.ok()) {
        for (LogEntry& e : model.batch) model.log.push_back(e);
        next += op.count;
      }
    } else if (op.kind == Op::kTruncate) {
      model.argument = next > op.count + 1 ? next - op.count : 1;
      status = store.truncate_suffix(Index(model.argument));
      if (status.ok()) {
        while (!model.log.empty() && model.log.back().index.value() >= model.argument) model.log.pop_back();
        ++term;  // a new leader rewrites the suffix
        next = model.log.empty() ? next : model.log.back().index.value() + 1;
      }
    } else {
      model.argument = next > op.keep + 1 ? next - 1 - op.keep : 0;
      status = store.compact_prefix(Index(model.argument));
      if (status.ok()) {
        while (!model.log.empty() && model.log.front().index < store.first_index())
          model.log.erase(model.log.begin());
      }
    }
    if (!status.ok()) return model;
    model.max_segments = std::max(model.max_segments, store.segment_count());
    if (op.kind == Op::kCompact)
      model.compacted_to = std::max(model.compacted_to, store.first_index().value());
    model.in_flight.reset();
    ++model.acked_ops;
  }
  return model;
}

// Is `got` a state a crash during the model's in-flight operation may leave?
bool allowed(const CrashModel& m, const std::vector<LogEntry>& got) {
  const std::vector<LogEntry>& log = m.log;
  if (!m.in_flight) return got == log;
  switch (m.in_flight->kind) {
    case Op::kAppend: {
      if (got.size() < log.size() || !std::equal(log.begin(), log.end(), got.begin())) return false;
      const size_t extra = got.size() - log.size();
      return extra <= m.batch.size() && std::equal(got.begin() + log.size(), got.end(), m.batch.begin());
    }
    case Op::kTruncate: {
      // A prefix of the old log holding everything below the truncation point.
      size_t below = 0;
      while (below < log.size() && log[below].index.value() < m.argument) ++below;
      return got.size() >= below && got.size() <= log.size() &&
             std::equal(got.begin(), got.end(), log.begin());
    }
    case Op::kCompact:
      // A suffix of the old log that still holds the last entry.
      if (log.empty()) return got.empty();
      return !got.empty() && got.size() <= log.size() && std::equal(got.rbegin(), got.rend(), log.rbegin());
  }
  return false;
}

class LogStoreCrashPointTest : public ::testing::TestWithParam<bool> {};
INSTANTIATE_TEST_SUITE_P(Names, LogStoreCrashPointTest, ::testing::Values(false, true),
                         ::reef::storage::testing::durability_mode_name);

TEST_P(LogStoreCrashPointTest, CrashAfterEveryOperationRecoversAnAcknowledgedPrefix) {
  const bool eager = GetParam();
  const LogStoreOptions options = small_segments(400);
  sim::SimFileSystem counting_sim(1);
  CrashPointFileSystem counting(&counting_sim);
  const CrashModel full = run_workload(&counting, options);
  ASSERT_EQ(full.acked_ops, workload().size());
  ASSERT_FALSE(full.log.empty());
  ASSERT_GE(full.max_segments, 3u);
  ASSERT_GT(full.compacted_to, 1u);
  const uint64_t crash_points = counting.operations();
  ASSERT_GT(crash_points, 3 * workload().size());

  constexpr uint64_t kSeeds = 12;  // seed 0: no torn writes; others: different tears
  uint64_t cases = 0, torn = 0, cut = 0, removed_empty = 0;
  for (uint64_t budget = 0; budget <= crash_points; ++budget) {
    for (uint64_t seed = 0; seed < kSeeds; ++seed) {
      sim::SimFileSystem sim(budget * 7919 + seed);
      sim.set_faults(sim::SimFaults{.torn_writes = seed != 0});
      CrashPointFileSystem crashing(&sim, budget, eager);
      const CrashModel model = run_workload(&crashing, options);
      sim.crash();
      torn += sim.stats().torn_writes;
      const std::string context = absl::StrCat("crash after operation ", budget, " seed ", seed, " (",
                                               model.acked_ops, " ops acknowledged)");
      absl::StatusOr<std::unique_ptr<LogStore>> store = LogStore::open(sim, "/log", options);
      ASSERT_TRUE(store.ok()) << context << ": " << store.status();
      cut += (*store)->recovery_report().cut_tail.has_value() ? 1 : 0;
      removed_empty += (*store)->recovery_report().removed_empty_segments.size();
      const std::vector<LogEntry> got = read_all(**store);
      ASSERT_TRUE(allowed(model, got))
          << context << ": recovered " << got.size() << " entries ["
          << (got.empty() ? 0 : got.front().index.value()) << ", "
          << (got.empty() ? 0 : got.back().index.value()) << "], acknowledged " << model.log.size();
      ++cases;
      // The recovered log keeps working: one more entry survives a crash.
      const uint64_t next = got.empty() ? 1 : got.back().index.value() + 1;
      const uint64_t term = got.empty() ? 1 : got.back().term.value();
      ASSERT_TRUE((*store)->append({entry(next, term, 33, 99)}).ok()) << context;
      store->reset();
      sim.crash();
      store = LogStore::open(sim, "/log", options);
      ASSERT_TRUE(store.ok()) << context << ": " << store.status();
      std::vector<LogEntry> want = got;
      want.push_back(entry(next, term, 33, 99));
      ASSERT_EQ(read_all(**store), want) << context;
    }
  }
  std::printf(
      "log store (%s): %llu crash points x %llu seeds = %llu crash cases, %llu torn writes, "
      "%llu tails cut, %llu empty segments removed\n",
      eager ? "eager names" : "sync_dir only", static_cast<unsigned long long>(crash_points + 1),
      static_cast<unsigned long long>(kSeeds), static_cast<unsigned long long>(cases),
      static_cast<unsigned long long>(torn), static_cast<unsigned long long>(cut),
      static_cast<unsigned long long>(removed_empty));
  EXPECT_GT(torn, 0u);
  EXPECT_GT(cut, 0u);
}

}  // namespace
}  // namespace reef::storage
