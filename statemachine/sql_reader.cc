#include "statemachine/sql_reader.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "statemachine/query_runner.h"
#include "statemachine/sql_database.h"
#include "statemachine/sqlite_vfs.h"

namespace reef::statemachine {

// The stream of a reader's held read transaction, serialized on first use.
class ReaderSnapshot final : public raft::StateMachineSnapshot {
 public:
  ReaderSnapshot(std::unique_ptr<SqlReader> reader, const StateSnapshotMeta& meta)
      : reader_(std::move(reader)), meta_(meta) {}
  const raft::SnapshotMeta& meta() const override { return meta_.raft; }
  uint64_t size_bytes() const override { return image_ != nullptr ? image_->size_bytes() : 0; }
  absl::StatusOr<std::optional<std::string>> next_chunk(uint64_t max_bytes) override {
    if (image_ == nullptr) {
      // sqlite3_serialize fills a page it cannot read with zeros and goes
      // on: an I/O error or a failed page checksum on the way would ship a
      // damaged image. The VFS's error count says whether one happened.
      const uint64_t errors_before = reader_->files_.error_count();
      absl::StatusOr<DatabaseImages> images = reader_->db_->serialize();
      const bool read_failed = reader_->files_.error_count() != errors_before;
      const absl::Status why = reader_->files_.last_error();
      reader_.reset();  // ends the read transaction
      if (!images.ok()) return images.status();
      if (read_failed) {
        return absl::Status(why.code() == absl::StatusCode::kDataLoss ? why.code() : absl::StatusCode::kUnavailable,
                            absl::StrCat("reading the database for a snapshot: ", why.message()));
      }
      image_ = std::make_unique<ImageSnapshot>(meta_, *std::move(images));
    }
    return image_->next_chunk(max_bytes);
  }

 private:
  std::unique_ptr<SqlReader> reader_;  // until the images are read
  const StateSnapshotMeta meta_;
  std::unique_ptr<ImageSnapshot> image_;
};

absl::StatusOr<std::unique_ptr<raft::StateMachineSnapshot>> SqlReader::snapshot(std::unique_ptr<SqlReader> reader,
                                                                                const StateSnapshotMeta& meta) {
  absl::StatusOr<AppliedRecord> record = reader->begin_read();
  if (!record.ok()) return record.status();
  if (record->position != raft::AppliedPosition{meta.raft.index, meta.raft.term}) {
    return absl::InternalError(absl::StrCat("a reader sees the database at index ", record->position.index.value(),
                                            ", not at the snapshot's ", meta.raft.index.value()));
  }
  return std::unique_ptr<raft::StateMachineSnapshot>(new ReaderSnapshot(std::move(reader), meta));
}

absl::StatusOr<std::unique_ptr<SqlReader>> SqlReader::open(const SqlStateMachineOptions& options,
                                                           const SqliteVfs& files, const std::string& dir) {
  absl::StatusOr<std::unique_ptr<Database>> db = Database::open_reader(options.database, files.name(), dir);
  if (!db.ok()) return db.status();
  return std::unique_ptr<SqlReader>(new SqlReader(options, files, *std::move(db)));
}

SqlReader::SqlReader(const SqlStateMachineOptions& options, const SqliteVfs& files, std::unique_ptr<Database> db)
    : options_(options), files_(files), db_(std::move(db)) {}

SqlReader::~SqlReader() = default;

absl::StatusOr<std::string> SqlReader::query(std::string_view request, Deadline deadline) {
  absl::StatusOr<AppliedRecord> record = begin_read();
  if (!record.ok()) return record.status();
  db_->context().begin_read(record->position.index.value(), record->last_timestamp_ms, options_.query_step_budget,
                            deadline);
  absl::StatusOr<std::string> answer = answer_query(*db_, options_.max_query_rows, request);
  if (absl::Status ended = db_->exec_internal("COMMIT"); !ended.ok() && answer.ok()) return ended;
  // SQLite says "disk I/O error" for a page that failed its checksum.
  if (absl::Status damage = files_.damage(); !answer.ok() && !damage.ok()) return damage;
  return answer;
}

// WAL commits the two files one after the other (sql_database.h), so a read
// that starts between the two sees them disagree; the next attempt sees
// them agree. They disagree for longer only while a snapshot replaces the
// database, one file at a time.
absl::StatusOr<AppliedRecord> SqlReader::begin_read() {
  constexpr int kAttempts = 16;
  absl::Status last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (absl::Status begun = db_->exec_internal("BEGIN"); !begun.ok()) return begun;
    absl::StatusOr<std::optional<AppliedRecord>> record = read_applied_record(*db_);
    if (record.ok()) return record->value_or(AppliedRecord{});
    (void)db_->exec_internal("ROLLBACK");
    if (record.status().code() != absl::StatusCode::kDataLoss) return record.status();
    last = record.status();
  }
  return absl::UnavailableError(absl::StrCat("the database files kept changing under the read (", last.message(),
                                             "); retry"));
}

}  // namespace reef::statemachine
