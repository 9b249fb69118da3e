// libFuzzer target: arbitrary bytes -> the contents of one node directory
// (hard state, log segments, snapshots) on a SimFileSystem -> NodeStorage
// recovery. Recovery must never crash: it returns a clear error, or a state
// that fits together (storage/node_storage.h), and it must be predictable and
// idempotent:
//  - an error has a non-empty message, and open_read_only() fails the same
//    way open() does;
//  - otherwise the entries are contiguous from the snapshot index + 1 with
//    non-decreasing terms no lower than the snapshot's, commit lies in
//    [snapshot index, last index], and the hard state's term is at least the
//    last log term;
//  - open_read_only() changes no byte and no name, recovers exactly what
//    open() then recovers, and has at least as many notes (it predicts every
//    change open makes);
//  - a second open() changes nothing, recovers the same state, and has
//    nothing left to cut or discard;
//  - persist() of one more entry and a hard state survives a crash and reopen.
// A violation prints what differed and traps, so libFuzzer saves the input.
//
// The input is decoded structurally so the fuzzer gets past the checksums:
// segments and snapshots are produced by the real writers (LogStore::append,
// SnapshotWriter) on a scratch file system from fuzzer-chosen indexes, terms
// and payloads, hard-state slots by encode_hard_state_slot; then
// fuzzer-chosen mutations (xor a byte, truncate, append garbage, zero a
// range) damage them. Format (every read past the end yields zeros):
//
//   layout   u8  bits 0-1 segments (0-3), bits 2-3 snapshots (0-3),
//                bit 4 hard_state, bit 5 hard_state.tmp, bit 6 no log/ dir,
//                bit 7 no snapshots/ dir
//   hard_state, hard_state.tmp (if present): two slots, each
//            kind u8 %4: 0 zeros; 1 term u8, vote u8 (0 none), commit u8,
//            gen u8 -> slot with sequence 2*(gen+1)+slot; 2 the same fields
//            and a raw sequence u8 (0 -> 1); 3 len u8 + raw bytes
//   snapshot x count: kind u8, index u8, term u8, data_len u8
//            kind bits 0-1: name 0 final, 1 temp, 2 final with index+1,
//            3 final with term+1; bit 2: index += 256 * next u8
//   segment x count: kind u8 ...
//            kind bits 0-1 first index: 0 follows the previous segment (the
//            first one: the newest snapshot's index + 1), 1 next u8,
//            2 previous end + next i8, 3 next u64 LE
//            bit 2 raw: len u8 + bytes instead of entries
//            bit 3 the name says first index + 1
//            then (not raw) count u8 %32, base term u8, one u8 per entry:
//            bits 0-1 term increment, bit 2 no-op, bits 3-7 payload length
//   mutations: count u8 %8, each target u8 (file, in creation order),
//            op u8 %4 (0 xor, 1 truncate, 2 append, 3 zero), offset u16 LE,
//            value u8
//
// Seeds: REEF_WRITE_SEEDS=<dir> build-bf/bin/storage_recovery_fuzzer writes
// the hand-made inputs of write_seeds() below to <dir> and exits
// (fuzz/corpus/storage_recovery/ was made that way).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "raft/core/log_entry.h"
#include "raft/core/membership.h"
#include "raft/core/state.h"
#include "sim/sim_file_system.h"
#include "storage/hard_state_store.h"
#include "storage/log_store.h"
#include "storage/node_storage.h"
#include "storage/snapshot_store.h"

namespace reef::storage {
namespace {

constexpr char kDir[] = "/node";
constexpr uint64_t kSegmentBytes = 512;  // small, so persist() rolls segments too

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "storage_recovery_fuzzer: %s\n", what.c_str());
  __builtin_trap();
}

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>(u8() | (u8() << 8)); }
  uint64_t u64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{u8()} << (8 * i);
    return v;
  }
  std::string bytes(size_t n) {
    std::string out;
    while (n-- > 0 && pos_ < size_) out.push_back(static_cast<char>(data_[pos_++]));
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// One file of the node directory, before it is written.
struct PlannedFile {
  std::string path;
  std::string bytes;
};

raft::HardState hard_state(uint64_t term, uint64_t vote, uint64_t commit) {
  raft::HardState hs;
  hs.term = raft::Term(term);
  if (vote != 0) hs.vote = raft::NodeId(vote);
  hs.commit = raft::Index(commit);
  return hs;
}

std::string decode_hard_state_file(Input& in) {
  std::string file;
  for (uint64_t slot = 0; slot < 2; ++slot) {
    const uint8_t kind = in.u8() % 4;
    std::string bytes;
    if (kind == 1 || kind == 2) {
      const uint64_t term = in.u8(), vote = in.u8(), commit = in.u8();
      // Sequence 0 means "never written"; forge it with raw bytes (kind 3).
      const uint64_t sequence =
          kind == 1 ? 2 * (uint64_t{in.u8()} + 1) + slot : std::max<uint64_t>(in.u8(), 1);
      bytes = encode_hard_state_slot(hard_state(term, vote, commit), sequence);
    } else if (kind == 3) {
      bytes = in.bytes(in.u8());
    }
    if (kind != 3) bytes.resize(HardStateStore::kSlotBytes, '\0');
    file += bytes;
  }
  return file;
}

raft::Configuration configuration() {
  return raft::Configuration::of_voters({raft::NodeId(1), raft::NodeId(2), raft::NodeId(3)});
}

// The bytes SnapshotWriter produces for (index, term, data), written on a
// scratch file system; "" if the writer refuses.
std::string encode_snapshot(uint64_t index, uint64_t term, const std::string& data) {
  sim::SimFileSystem scratch(1);
  SnapshotStoreOptions options;
  options.max_chunk_bytes = 16;  // several chunks from a few bytes
  absl::StatusOr<std::unique_ptr<SnapshotStore>> store = SnapshotStore::open(&scratch, "/s", options);
  if (!store.ok()) fail(absl::StrCat("scratch snapshot store: ", store.status().ToString()));
  absl::StatusOr<std::unique_ptr<SnapshotWriter>> writer =
      (*store)->begin(raft::SnapshotMeta{raft::Index(index), raft::Term(term), configuration()});
  if (!writer.ok()) return "";
  if (!(*writer)->add_chunk(data).ok()) return "";
  absl::StatusOr<SnapshotInfo> info = (*writer)->finish();
  if (!info.ok()) return "";
  return scratch.contents(info->path).value_or("");
}

// One segment holding `entries` as LogStore::append writes it; "" if append
// refuses them (index 0).
std::string encode_segment(const std::vector<raft::LogEntry>& entries) {
  if (entries.empty()) return "";
  sim::SimFileSystem scratch(1);
  LogStoreOptions options;
  options.segment_bytes = uint64_t{1} << 24;  // one segment whatever the batch
  options.preallocate = false;                 // the records alone: the input decides what follows them
  absl::StatusOr<std::unique_ptr<LogStore>> log = LogStore::open(scratch, "/s", options);
  if (!log.ok()) fail(absl::StrCat("scratch log store: ", log.status().ToString()));
  if (!(*log)->append(entries).ok()) return "";
  return scratch.contents(join_path("/s", LogStore::segment_name(entries.front().index))).value_or("");
}

std::string temp_snapshot_name(uint64_t index, uint64_t term) {
  std::string name = SnapshotStore::file_name(raft::Index(index), raft::Term(term));
  name.resize(name.size() - std::string(".snap").size());
  return name + ".0.tmp";
}

std::vector<PlannedFile> decode_directory(Input& in, bool* log_dir, bool* snapshot_dir) {
  std::vector<PlannedFile> files;
  const uint8_t layout = in.u8();
  const int segments = layout & 3;
  const int snapshots = (layout >> 2) & 3;
  *log_dir = (layout & 0x40) == 0;
  *snapshot_dir = (layout & 0x80) == 0;
  const std::string log = join_path(kDir, NodeStorage::kLogDir);
  const std::string snap = join_path(kDir, NodeStorage::kSnapshotDir);
  if (layout & 0x10)
    files.push_back({join_path(kDir, HardStateStore::kFileName), decode_hard_state_file(in)});
  if (layout & 0x20) {
    files.push_back({join_path(kDir, HardStateStore::kTempFileName), decode_hard_state_file(in)});
  }

  uint64_t newest_snapshot = 0;
  for (int i = 0; i < snapshots; ++i) {
    const uint8_t kind = in.u8();
    uint64_t index = in.u8();
    const uint64_t term = in.u8();
    const std::string data(in.u8(), static_cast<char>('a' + i));
    if (kind & 4) index += 256 * uint64_t{in.u8()};
    newest_snapshot = std::max(newest_snapshot, index);
    std::string name;
    switch (kind & 3) {
      case 0: name = SnapshotStore::file_name(raft::Index(index), raft::Term(term)); break;
      case 1: name = temp_snapshot_name(index, term); break;
      case 2: name = SnapshotStore::file_name(raft::Index(index + 1), raft::Term(term)); break;
      default: name = SnapshotStore::file_name(raft::Index(index), raft::Term(term + 1)); break;
    }
    if (*snapshot_dir) files.push_back({join_path(snap, name), encode_snapshot(index, term, data)});
  }

  uint64_t next = newest_snapshot + 1;  // where a segment that "follows" starts
  for (int i = 0; i < segments; ++i) {
    const uint8_t kind = in.u8();
    uint64_t first = next;
    switch (kind & 3) {
      case 0: break;
      case 1: first = in.u8(); break;
      case 2: first = next + static_cast<uint64_t>(static_cast<int64_t>(static_cast<int8_t>(in.u8()))); break;
      default: first = in.u64(); break;
    }
    std::string bytes;
    if (kind & 4) {
      bytes = in.bytes(in.u8());
    } else {
      const int count = in.u8() % 32;
      uint64_t term = in.u8();
      std::vector<raft::LogEntry> entries;
      for (int k = 0; k < count; ++k) {
        const uint8_t e = in.u8();
        term += e & 3;
        entries.push_back(raft::LogEntry{raft::Term(term), raft::Index(first + k),
                                         (e & 4) ? raft::EntryType::kNoop : raft::EntryType::kNormal,
                                         std::string(e >> 3, static_cast<char>(e))});
      }
      bytes = encode_segment(entries);
      next = first + count;
    }
    const uint64_t name_index = (kind & 8) ? first + 1 : first;
    if (*log_dir) files.push_back({join_path(log, LogStore::segment_name(raft::Index(name_index))), bytes});
  }

  const int mutations = in.u8() % 8;
  for (int i = 0; i < mutations && !files.empty(); ++i) {
    std::string& bytes = files[in.u8() % files.size()].bytes;
    const uint8_t op = in.u8() % 4;
    const uint16_t offset = in.u16();
    const uint8_t value = in.u8();
    switch (op) {
      case 0:
        if (!bytes.empty()) bytes[offset % bytes.size()] ^= static_cast<char>(value == 0 ? 1 : value);
        break;
      case 1: bytes.resize(offset % (bytes.size() + 1)); break;
      case 2: bytes.append(value, static_cast<char>(offset)); break;
      default:
        if (!bytes.empty()) {
          const size_t at = offset % bytes.size();
          for (size_t k = at; k < bytes.size() && k < at + value; ++k) bytes[k] = '\0';
        }
        break;
    }
  }
  return files;
}

void write_durably(sim::SimFileSystem& fs, const PlannedFile& file) {
  absl::StatusOr<std::unique_ptr<File>> f = fs.open(file.path, OpenMode::kCreate);
  if (!f.ok()) fail(absl::StrCat("setup: ", f.status().ToString()));
  absl::Status s = (*f)->truncate(0);
  if (s.ok() && !file.bytes.empty()) s = (*f)->write_at(0, file.bytes);
  if (s.ok()) s = (*f)->sync();
  if (s.ok()) s = fs.sync_dir(parent_dir(file.path));
  if (!s.ok()) fail(absl::StrCat("setup: ", s.ToString()));
}

// Every directory and file of the node, with contents: what "changes
// nothing" is checked against.
std::map<std::string, std::string> tree(sim::SimFileSystem& fs) {
  std::map<std::string, std::string> out;
  for (const std::string& dir : {std::string(kDir), join_path(kDir, NodeStorage::kLogDir),
                                 join_path(kDir, NodeStorage::kSnapshotDir)}) {
    absl::StatusOr<std::vector<std::string>> names = fs.list(dir);
    if (!names.ok()) continue;  // no such directory
    out[dir + "/"] = "";
    for (const std::string& name : *names) {
      const std::string path = join_path(dir, name);
      out[path] = fs.contents(path).value_or("<unreadable>");
    }
  }
  return out;
}

raft::Index last_index(const Recovery& r) {
  if (!r.entries.empty()) return r.entries.back().index;
  return r.snapshot ? r.snapshot->meta.index : raft::Index(0);
}

raft::Term last_term(const Recovery& r) {
  if (!r.entries.empty()) return r.entries.back().term;
  return r.snapshot ? r.snapshot->meta.term : raft::Term(0);
}

void check_consistent(const Recovery& r, const char* who) {
  const raft::Index s = r.snapshot ? r.snapshot->meta.index : raft::Index(0);
  const raft::Term s_term = r.snapshot ? r.snapshot->meta.term : raft::Term(0);
  raft::Term previous = s_term;
  for (size_t i = 0; i < r.entries.size(); ++i) {
    if (r.entries[i].index.value() != s.value() + 1 + i) {
      fail(absl::StrCat(who, ": entry ", i, " has index ", r.entries[i].index.value(), ", snapshot index ",
                        s.value()));
    }
    if (r.entries[i].term < previous) {
      fail(absl::StrCat(who, ": entry ", r.entries[i].index.value(), " has term ", r.entries[i].term.value(),
                        " below ", previous.value()));
    }
    previous = r.entries[i].term;
  }
  const raft::HardState& hs = r.hard_state;
  if (hs.commit < s || hs.commit > last_index(r)) {
    fail(absl::StrCat(who, ": commit ", hs.commit.value(), " outside [", s.value(), ", ",
                      last_index(r).value(), "]"));
  }
  if (hs.term < last_term(r)) {
    fail(absl::StrCat(who, ": term ", hs.term.value(), " below the last log term ", last_term(r).value()));
  }
  if (r.fresh && (r.snapshot || !r.entries.empty() || !(hs == raft::HardState{}))) {
    fail(absl::StrCat(who, ": fresh, but holds state"));
  }
}

std::string describe(const Recovery& r) {
  std::string out = absl::StrCat(
      "term ", r.hard_state.term.value(), " vote ", r.hard_state.vote ? r.hard_state.vote->value() : 0,
      " commit ", r.hard_state.commit.value(), " snapshot ",
      r.snapshot ? absl::StrCat(r.snapshot->meta.index.value(), "/", r.snapshot->meta.term.value()) : "none",
      " entries ", r.entries.size(), " fresh ", r.fresh, "; notes:");
  for (const std::string& note : r.notes) absl::StrAppend(&out, "\n  ", note);
  return out;
}

void check_same_state(const Recovery& a, const Recovery& b, const char* what) {
  const bool same =
      a.hard_state == b.hard_state && a.entries == b.entries && a.fresh == b.fresh &&
      a.snapshot.has_value() == b.snapshot.has_value() &&
      (!a.snapshot || (a.snapshot->meta == b.snapshot->meta && a.snapshot->path == b.snapshot->path));
  if (!same) fail(absl::StrCat(what, ":\n", describe(a), "\nvs\n", describe(b)));
}

// The notes of what open() itself changed (a cut tail, a removed empty
// segment, a discarded log); damage it only reports may be noted again.
bool is_change_note(const std::string& note) {
  return absl::EndsWith(note, "; cut it") || absl::EndsWith(note, "; removed") ||
         absl::StrContains(note, " discarded: ");
}

// Builds the directory `data` describes, recovers it and checks everything
// above; `outcome` (if given) gets what the first open() returned.
void run(const uint8_t* data, size_t size, std::string* outcome = nullptr) {
  Input in(data, size);
  bool log_dir = true, snapshot_dir = true;
  const std::vector<PlannedFile> files = decode_directory(in, &log_dir, &snapshot_dir);
  sim::SimFileSystem fs(7);
  if (!fs.create_dir(kDir).ok()) fail("setup: create_dir");
  if (log_dir && !fs.create_dir(join_path(kDir, NodeStorage::kLogDir)).ok()) fail("setup: create_dir log");
  if (snapshot_dir && !fs.create_dir(join_path(kDir, NodeStorage::kSnapshotDir)).ok()) {
    fail("setup: create_dir snapshots");
  }
  for (const PlannedFile& file : files) write_durably(fs, file);

  NodeStorageOptions options;
  options.log.segment_bytes = kSegmentBytes;
  const std::map<std::string, std::string> before = tree(fs);
  absl::StatusOr<std::unique_ptr<NodeStorage>> read_only = NodeStorage::open_read_only(fs, kDir, options);
  if (tree(fs) != before) fail("open_read_only changed the directory");
  if (read_only.ok()) {
    check_consistent((*read_only)->recovery(), "open_read_only");
    if ((*read_only)->persist(std::nullopt, {}).code() != absl::StatusCode::kFailedPrecondition) {
      fail("persist on a read-only storage did not fail with FAILED_PRECONDITION");
    }
  } else if (read_only.status().message().empty()) {
    fail("open_read_only: error without a message");
  }

  absl::StatusOr<std::unique_ptr<NodeStorage>> opened = NodeStorage::open(fs, kDir, options);
  if (outcome != nullptr)
    *outcome = opened.ok() ? describe((*opened)->recovery()) : opened.status().ToString();
  if (!opened.ok()) {
    if (opened.status().message().empty()) fail("open: error without a message");
    if (read_only.ok() || read_only.status().code() != opened.status().code()) {
      fail(absl::StrCat("open failed with ", opened.status().ToString(), " but open_read_only gave ",
                        read_only.ok() ? describe((*read_only)->recovery()) : read_only.status().ToString()));
    }
    return;
  }
  const Recovery first = (*opened)->recovery();
  check_consistent(first, "open");
  if (!read_only.ok()) {
    fail(absl::StrCat("open_read_only failed with ", read_only.status().ToString(), " but open recovered ",
                      describe(first)));
  }
  check_same_state((*read_only)->recovery(), first, "open_read_only predicted another state than open");
  if ((*read_only)->recovery().notes.size() < first.notes.size()) {
    fail(absl::StrCat("open noted more than open_read_only predicted:\n", describe((*read_only)->recovery()),
                      "\nvs\n", describe(first)));
  }
  read_only->reset();
  opened->reset();

  // Idempotent: what open left behind needs no further change.
  const std::map<std::string, std::string> after_first = tree(fs);
  absl::StatusOr<std::unique_ptr<NodeStorage>> again = NodeStorage::open(fs, kDir, options);
  if (!again.ok()) fail(absl::StrCat("second open failed: ", again.status().ToString()));
  check_same_state(first, (*again)->recovery(), "second open recovered another state");
  for (const std::string& note : (*again)->recovery().notes) {
    if (is_change_note(note)) fail(absl::StrCat("second open still changed something: ", note));
  }
  if (tree(fs) != after_first) fail("second open changed the directory");

  // The recovered storage keeps working: one more entry and a hard state
  // committing it survive a crash. (Skipped at the edge of the index space.)
  const raft::Index last = last_index(first);
  if (last.value() >= (uint64_t{1} << 62)) return;
  raft::HardState next = first.hard_state;
  next.commit = last + 1;
  const raft::LogEntry entry{next.term, last + 1, raft::EntryType::kNormal, "next"};
  if (absl::Status s = (*again)->persist(next, {entry}); !s.ok()) {
    fail(absl::StrCat("persist after recovery: ", s.ToString(), "\n", describe(first)));
  }
  again->reset();
  fs.crash();
  absl::StatusOr<std::unique_ptr<NodeStorage>> reopened = NodeStorage::open(fs, kDir, options);
  if (!reopened.ok()) fail(absl::StrCat("open after persist: ", reopened.status().ToString()));
  const Recovery& last_recovery = (*reopened)->recovery();
  check_consistent(last_recovery, "open after persist");
  std::vector<raft::LogEntry> expected = first.entries;
  expected.push_back(entry);
  if (last_recovery.entries != expected || !(last_recovery.hard_state == next)) {
    fail(absl::StrCat("persisted entry or hard state lost:\n", describe(first), "\nthen\n",
                      describe(last_recovery)));
  }
}

// ---------------------------------------------------------------- seeds

std::string bytes_of(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

void write_seeds(const std::string& dir) {
  // An entry byte: payload length 4, term increment `inc`.
  auto entry = [](int inc) { return (4 << 3) | inc; };
  const std::vector<std::pair<std::string, std::string>> seeds = {
      {"fresh", bytes_of({0})},
      // Hard state {3, vote 1, commit 5} in slot 1, one segment 1..8 of term 1..3.
      {"hard_state_and_log", bytes_of({0x11, 0, 1, 3, 1, 5, 0, 0, 8, 1, entry(0), entry(0), entry(1),
                                       entry(0), entry(1), entry(0), entry(0), entry(0), 0})},
      // Snapshot 10/2 and a log 11..16 following it; commit 12.
      {"snapshot_then_log",
       bytes_of({0x15, 1, 3, 1,        12,       0,        0,        0,        10,       2, 40,
                 0,    6, 2, entry(0), entry(1), entry(0), entry(0), entry(0), entry(0), 0})},
      // Three segments of a contiguous log, the last one with a torn tail.
      {"three_segments_torn_tail",
       bytes_of({0x13,     1,        1,        0,        4,        0, 0,        0,        5,        1,
                 entry(0), entry(0), entry(0), entry(0), entry(0), 0, 5,        1,        entry(0), entry(0),
                 entry(0), entry(0), entry(0), 0,        5,        2, entry(0), entry(0), entry(0), entry(0),
                 entry(0), 1,        3,        1,        100,      0, 0})},
      // A log below a snapshot it does not hold: recovery discards it.
      {"log_superseded_by_snapshot",
       bytes_of({0x15,     1,        1,        0,        3,        0,        0,        0,        30,
                 4,        16,       1,        1,        10,       1,        entry(0), entry(0), entry(0),
                 entry(0), entry(0), entry(0), entry(0), entry(0), entry(0), entry(0), 0})},
      // A gap between snapshot and log: DATA_LOSS.
      {"gap_after_snapshot", bytes_of({0x05, 0, 5, 1, 8, 2, 3, 4, 1, entry(0), entry(0), entry(0), 0})},
      // Commit past the log: DATA_LOSS naming the missing entries.
      {"commit_past_log",
       bytes_of({0x11, 1, 1, 2, 9, 0, 0, 0, 4, 5, entry(0), entry(0), entry(0), entry(0), 0})},
      // Temp files of an interrupted first save and snapshot, and a damaged
      // newer snapshot beside a valid one: recovery falls back to 6/1, keeps
      // the log after it and raises the commit to 6.
      {"leftovers_and_damaged_snapshot",
       bytes_of({0x3d, 1,        2,        1,        1,        0,        0,        1, 5, 5, 5,   0, 0,   0,
                 6,    1,        8,        0,        8,        2,        9,        1, 9, 2, 3,   1, 5,   6,
                 1,    entry(0), entry(0), entry(0), entry(0), entry(0), entry(0), 1, 3, 0, 100, 0, 0xff})},
      // Raw garbage under a segment name after a valid segment.
      {"garbage_segment",
       bytes_of({0x02, 0, 3, 1, entry(0), entry(0), entry(0), 4, 20, 'g', 'a', 'r', 'b', 'a', 'g',
                 'e',  1, 2, 3, 4,        5,        6,        7, 8,  9,   10,  11,  12,  13,  0})},
  };
  for (const auto& [name, bytes] : seeds) {
    const std::string path = join_path(dir, name);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) fail(absl::StrCat("cannot write ", path));
    // Every seed must run clean: a seed that crashes is a bug to fix first.
    std::string outcome;
    run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &outcome);
    std::fprintf(stderr, "%s: %s\n", name.c_str(), outcome.c_str());
  }
  std::fprintf(stderr, "wrote %zu seeds to %s\n", seeds.size(), dir.c_str());
}

}  // namespace
}  // namespace reef::storage

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("REEF_WRITE_SEEDS")) {
    reef::storage::write_seeds(dir);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  reef::storage::run(data, size);
  return 0;
}
