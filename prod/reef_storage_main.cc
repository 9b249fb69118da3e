// reef-storage: inspects a ReefDB storage directory without changing it.
//
//   reef-storage verify DIR   checks every log segment (and snapshot) in DIR
//   reef-storage dump DIR     one line per log record: index, term, type, payload size
//
// Both commands go through LogStore::open_read_only(), which runs exactly the
// scan recovery runs but never truncates, removes or syncs: an operator
// looking at a damaged log must not destroy the evidence, and a torn tail that
// the next open would cut is reported, not cut.
//
// Exit status: 0 sound (a torn tail alone is the normal result of a crash and
// still sound), 1 damage or an I/O error, 2 usage errors (including a DIR that
// does not exist, which is almost always a typo rather than a lost log).
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "prod/posix_file_system.h"
#include "raft/log_entry.h"
#include "storage/file_system.h"
#include "storage/hard_state_store.h"
#include "storage/log_store.h"
#include "storage/snapshot_store.h"

namespace reef::prod {
namespace {

constexpr int kExitSound = 0;
constexpr int kExitDamaged = 1;
constexpr int kExitUsage = 2;
// dump reads this many entries at a time so memory stays bounded on a large log.
constexpr uint64_t kDumpBatch = 1024;

void print_usage(FILE* out) {
  std::fputs(
      "Usage: reef-storage COMMAND DIR\n"
      "\n"
      "Inspects a ReefDB storage directory. Nothing in DIR is modified: a torn log tail\n"
      "that the next open would cut is only reported.\n"
      "\n"
      "Commands:\n"
      "  verify DIR   Check every log segment record (framing, checksum, index, term) in DIR,\n"
      "               and every snapshot file. Prints entries, index range and segments, or\n"
      "               the damage: file, byte offset and affected index range.\n"
      "  dump DIR     Print one line per log record: index, term, type, payload size.\n"
      "\n"
      "Options:\n"
      "  -h, --help   Show this help.\n"
      "\n"
      "Exit status: 0 sound, 1 damage or I/O error, 2 usage error (bad arguments, missing DIR).\n",
      out);
}

const char* type_name(raft::EntryType type) {
  switch (type) {
    case raft::EntryType::kNormal: return "normal";
    case raft::EntryType::kNoop: return "noop";
  }
  return "unknown";
}

// Usage-level problems with DIR, reported before any scan; nullopt if fine.
std::optional<std::string> check_dir(storage::FileSystem& fs, const std::string& dir) {
  if (absl::Status s = storage::validate_path(dir); !s.ok()) return std::string(s.message());
  absl::StatusOr<bool> exists = fs.exists(dir);
  if (!exists.ok()) return std::string(exists.status().message());
  if (!*exists) return "directory " + dir + " does not exist";
  // list() fails on something that is not a directory, with the path in the message.
  absl::StatusOr<std::vector<std::string>> names = fs.list(dir);
  if (!names.ok()) return std::string(names.status().message());
  return std::nullopt;
}

// Verifies every final-named snapshot file by reading it through to the end:
// SnapshotReader checks header, meta, end record and each chunk checksum, and
// only reads. (SnapshotStore::open is not used: it removes temp files and
// older snapshots.) Returns false if one is damaged.
bool verify_snapshots(storage::FileSystem& fs, const std::string& dir,
                      const std::vector<std::string>& names) {
  bool sound = true;
  for (const std::string& name : names) {
    if (!absl::StartsWith(name, "snapshot-")) continue;
    if (absl::EndsWith(name, ".tmp")) {
      std::printf("snapshot %s: leftover temp file of an unfinished install (the next open removes it)\n",
                  name.c_str());
      continue;
    }
    if (!absl::EndsWith(name, ".snap")) continue;
    const std::string path = storage::join_path(dir, name);
    absl::StatusOr<std::unique_ptr<storage::SnapshotReader>> reader =
        storage::SnapshotReader::open(&fs, path);
    absl::Status status = reader.status();
    if (status.ok()) {
      while (true) {
        absl::StatusOr<std::optional<storage::SnapshotChunk>> chunk = (*reader)->next();
        if (!chunk.ok()) {
          status = chunk.status();
          break;
        }
        if (!chunk->has_value()) break;
      }
    }
    if (!status.ok()) {
      std::printf("snapshot %s: DAMAGED: %s\n", name.c_str(), status.ToString().c_str());
      sound = false;
      continue;
    }
    const storage::SnapshotInfo& info = (*reader)->info();
    std::printf("snapshot %s: ok (index %llu, term %llu, %llu data bytes in %llu chunks)\n", name.c_str(),
                static_cast<unsigned long long>(info.meta.index.value()),
                static_cast<unsigned long long>(info.meta.term.value()),
                static_cast<unsigned long long>(info.data_bytes),
                static_cast<unsigned long long>(info.chunk_count));
  }
  return sound;
}

int verify(storage::FileSystem& fs, const std::string& dir) {
  absl::StatusOr<std::vector<std::string>> names = fs.list(dir);
  if (!names.ok()) {
    std::printf("verify %s: FAILED: %s\n", dir.c_str(), names.status().ToString().c_str());
    return kExitDamaged;
  }
  bool sound = true;
  absl::StatusOr<std::unique_ptr<storage::LogStore>> store = storage::LogStore::open_read_only(fs, dir);
  if (!store.ok()) {
    // DATA_LOSS messages name the file, the byte offset and the affected index range.
    std::printf("log: DAMAGED: %s\n", store.status().ToString().c_str());
    sound = false;
  } else {
    const storage::RecoveryReport& report = (*store)->recovery_report();
    if ((*store)->empty()) {
      std::printf("log: ok, empty (0 entries, 0 segments)\n");
    } else {
      std::printf("log: ok, %llu entries, indexes %llu..%llu, %llu segments\n",
                  static_cast<unsigned long long>(report.entries),
                  static_cast<unsigned long long>((*store)->first_index().value()),
                  static_cast<unsigned long long>((*store)->last_index().value()),
                  static_cast<unsigned long long>(report.segments));
    }
    if (report.cut_tail) {
      std::printf(
          "note: torn tail in %s at offset %llu (%llu bytes: %s); the crash case, not damage: "
          "the next open cuts it\n",
          report.cut_tail->path.c_str(), static_cast<unsigned long long>(report.cut_tail->offset),
          static_cast<unsigned long long>(report.cut_tail->bytes), report.cut_tail->reason.c_str());
    }
    for (const std::string& path : report.removed_empty_segments) {
      std::printf("note: empty last segment %s (crash before its first record); the next open removes it\n",
                  path.c_str());
    }
  }
  if (!verify_snapshots(fs, dir, *names)) sound = false;
  for (const std::string& name : *names) {
    if (name == storage::HardStateStore::kFileName || name == storage::HardStateStore::kTempFileName) {
      // HardStateStore::open may remove a leftover temp file; no read-only way exists yet.
      std::printf("note: %s present, not verified (opening the hard state store may modify files)\n",
                  name.c_str());
    }
  }
  std::printf("%s: %s\n", dir.c_str(), sound ? "SOUND" : "NOT SOUND");
  return sound ? kExitSound : kExitDamaged;
}

int dump(storage::FileSystem& fs, const std::string& dir) {
  absl::StatusOr<std::unique_ptr<storage::LogStore>> store = storage::LogStore::open_read_only(fs, dir);
  if (!store.ok()) {
    std::fprintf(stderr, "reef-storage dump: %s\n", store.status().ToString().c_str());
    return kExitDamaged;
  }
  if ((*store)->empty()) return kExitSound;
  const uint64_t last = (*store)->last_index().value();
  for (uint64_t from = (*store)->first_index().value(); from <= last;) {
    const uint64_t to = last - from + 1 > kDumpBatch ? from + kDumpBatch : last + 1;
    absl::StatusOr<std::vector<raft::LogEntry>> entries = (*store)->read(raft::Index(from), raft::Index(to));
    if (!entries.ok()) {
      std::fprintf(stderr, "reef-storage dump: %s\n", entries.status().ToString().c_str());
      return kExitDamaged;
    }
    for (const raft::LogEntry& entry : *entries) {
      std::printf("index=%llu term=%llu type=%s payload_bytes=%zu\n",
                  static_cast<unsigned long long>(entry.index.value()),
                  static_cast<unsigned long long>(entry.term.value()), type_name(entry.type),
                  entry.payload.size());
    }
    from = to;
  }
  return kExitSound;
}

int run(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "-h") == 0 || std::strcmp(argv[i], "--help") == 0) {
      print_usage(stdout);
      return kExitSound;
    }
  }
  if (argc != 3) {
    std::fprintf(stderr, "reef-storage: expected COMMAND DIR, got %d argument(s)\n\n", argc - 1);
    print_usage(stderr);
    return kExitUsage;
  }
  const std::string command = argv[1];
  const std::string dir = argv[2];
  if (command != "verify" && command != "dump") {
    std::fprintf(stderr, "reef-storage: unknown command '%s'\n\n", command.c_str());
    print_usage(stderr);
    return kExitUsage;
  }
  PosixFileSystem fs;
  if (std::optional<std::string> problem = check_dir(fs, dir)) {
    std::fprintf(stderr, "reef-storage %s: %s\n", command.c_str(), problem->c_str());
    return kExitUsage;
  }
  return command == "verify" ? verify(fs, dir) : dump(fs, dir);
}

}  // namespace
}  // namespace reef::prod

int main(int argc, char** argv) { return reef::prod::run(argc, argv); }
