#include "prod/disk/storage_tool.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "prod/disk/posix_file_system.h"
#include "raft/core/log_entry.h"
#include "storage/file_system.h"
#include "storage/hard_state_store.h"
#include "storage/log_store.h"
#include "storage/node_identity.h"
#include "storage/node_storage.h"
#include "storage/peer_incarnations.h"
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
      "Inspects a ReefDB node storage directory (DIR/identity, DIR/peer_incarnations,\n"
      "DIR/hard_state, DIR/log/, DIR/snapshots/).\n"
      "Nothing in DIR is modified: a torn log tail that the next open would cut is only\n"
      "reported.\n"
      "\n"
      "Commands:\n"
      "  verify DIR   Print whose directory it is (node id, cluster, incarnation) and the\n"
      "               peers' incarnations it remembers. Check the hard state (both slots), every log record (framing, checksum,\n"
      "               index, term) and every snapshot file chunk by chunk, then whether they fit\n"
      "               together (log continues the snapshot, commit within the log). Prints what\n"
      "               recovery would start from, or the damage: file, byte offset and affected\n"
      "               index range.\n"
      "  dump DIR     Print one line per record of DIR/log: index, term, type, payload size.\n"
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
    case raft::EntryType::kConfiguration: return "configuration";
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

bool verify_identity(storage::FileSystem& fs, const std::string& dir) {
  absl::StatusOr<std::optional<storage::NodeIdentity>> identity = storage::read_node_identity(fs, dir);
  if (!identity.ok()) {
    std::printf("identity: DAMAGED: %s\n", identity.status().ToString().c_str());
    return false;
  }
  if (!identity->has_value()) {
    std::printf("identity: none yet (a node that never started, or one from before identities)\n");
  } else {
    std::printf("identity: %s, cluster id %llu\n", storage::describe(**identity).c_str(),
                static_cast<unsigned long long>((*identity)->cluster_id));
  }
  absl::StatusOr<std::unique_ptr<storage::PeerIncarnations>> peers = storage::PeerIncarnations::open(fs, dir);
  if (!peers.ok()) {
    std::printf("peer incarnations: DAMAGED: %s\n", peers.status().ToString().c_str());
    return false;
  }
  if ((*peers)->remembered().empty()) std::printf("peer incarnations: none yet\n");
  for (const auto& [node, incarnation] : (*peers)->remembered()) {
    std::printf("peer incarnation: node %llu, %016llx\n", static_cast<unsigned long long>(node.value()),
                static_cast<unsigned long long>(incarnation));
  }
  return true;
}

bool verify_hard_state(storage::FileSystem& fs, const std::string& dir) {
  absl::StatusOr<std::unique_ptr<storage::HardStateStore>> store =
      storage::HardStateStore::open_read_only(&fs, dir);
  if (!store.ok()) {
    std::printf("hard state: DAMAGED: %s\n", store.status().ToString().c_str());
    return false;
  }
  const raft::HardState& state = (*store)->current();
  if ((*store)->sequence() == 0) {
    std::printf("hard state: none yet (a node that never saved one)\n");
  } else {
    std::printf("hard state: ok, term %llu, vote %s, commit %llu (save #%llu)\n",
                static_cast<unsigned long long>(state.term.value()),
                state.vote ? std::to_string(state.vote->value()).c_str() : "none",
                static_cast<unsigned long long>(state.commit.value()),
                static_cast<unsigned long long>((*store)->sequence()));
  }
  // Its warnings (a torn slot) are among the recovery notes printed below.
  return true;
}

bool verify_log(storage::FileSystem& fs, const std::string& log_dir) {
  absl::StatusOr<std::unique_ptr<storage::LogStore>> store = storage::LogStore::open_read_only(fs, log_dir);
  if (absl::IsNotFound(store.status())) {
    std::printf("log: none yet (%s does not exist)\n", log_dir.c_str());
    return true;
  }
  if (!store.ok()) {
    // DATA_LOSS messages name the file, the byte offset and the affected index range.
    std::printf("log: DAMAGED: %s\n", store.status().ToString().c_str());
    return false;
  }
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
  return true;
}

// The stores one by one first, so that every damaged part is named; then,
// only if each is sound, whether they fit together: exactly what a node's
// recovery would check and start from.
int verify(storage::FileSystem& fs, const std::string& dir) {
  bool sound = verify_identity(fs, dir);
  if (!verify_hard_state(fs, dir)) sound = false;
  if (!verify_log(fs, storage::join_path(dir, storage::NodeStorage::kLogDir))) sound = false;
  const std::string snapshot_dir = storage::join_path(dir, storage::NodeStorage::kSnapshotDir);
  if (absl::StatusOr<std::vector<std::string>> names = fs.list(snapshot_dir); names.ok()) {
    if (!verify_snapshots(fs, snapshot_dir, *names)) sound = false;
    if (names->empty()) std::printf("snapshots: none\n");
  } else if (absl::IsNotFound(names.status())) {
    std::printf("snapshots: none (%s does not exist)\n", snapshot_dir.c_str());
  } else {
    std::printf("snapshots: FAILED: %s\n", names.status().ToString().c_str());
    sound = false;
  }
  if (sound) {
    absl::StatusOr<std::unique_ptr<storage::NodeStorage>> node = storage::NodeStorage::open_read_only(fs, dir);
    if (!node.ok()) {
      std::printf("recovery: DAMAGED: %s\n", node.status().ToString().c_str());
      sound = false;
    } else {
      const storage::Recovery& recovery = (*node)->recovery();
      std::printf("recovery: would start at term %llu, commit %llu, snapshot index %llu, %zu log entries after it\n",
                  static_cast<unsigned long long>(recovery.hard_state.term.value()),
                  static_cast<unsigned long long>(recovery.hard_state.commit.value()),
                  static_cast<unsigned long long>(recovery.snapshot ? recovery.snapshot->meta.index.value() : 0),
                  recovery.entries.size());
      for (const std::string& note : recovery.notes) std::printf("note: %s\n", note.c_str());
    }
  }
  std::printf("%s: %s\n", dir.c_str(), sound ? "SOUND" : "NOT SOUND");
  return sound ? kExitSound : kExitDamaged;
}

int dump(storage::FileSystem& fs, const std::string& dir) {
  absl::StatusOr<std::unique_ptr<storage::LogStore>> store =
      storage::LogStore::open_read_only(fs, storage::join_path(dir, storage::NodeStorage::kLogDir));
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
      const std::string configuration = entry.configuration ? absl::StrCat(" ", entry.configuration->describe()) : "";
      std::printf("index=%llu term=%llu type=%s payload_bytes=%zu%s\n",
                  static_cast<unsigned long long>(entry.index.value()),
                  static_cast<unsigned long long>(entry.term.value()), type_name(entry.type),
                  entry.payload.size(), configuration.c_str());
    }
    from = to;
  }
  return kExitSound;
}

}  // namespace

int run_storage_tool(int argc, char** argv) {
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

}  // namespace reef::prod
