#include "storage/snapshot_store.h"

#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "encoding/checksummed_record.h"
#include "encoding/little_endian.h"
#include "encoding/membership_codec.h"
#include "raft/core/assert.h"

namespace reef::storage {

using encoding::checksum;
using encoding::get_u32;
using encoding::get_u64;
using encoding::put_u32;
using encoding::put_u64;

namespace {

constexpr char kMagic[8] = {'R', 'E', 'E', 'F', 'S', 'N', 'A', 'P'};
constexpr uint64_t kFileHeaderBytes = 32;
constexpr uint64_t kRecordHeaderBytes = 32;
constexpr uint32_t kRecordData = 1;
constexpr uint32_t kRecordEnd = 2;
constexpr uint32_t kEndPayloadBytes = 16;  // chunk_count, meta_checksum
constexpr uint64_t kEndRecordBytes = kRecordHeaderBytes + kEndPayloadBytes;
constexpr absl::string_view kPrefix = "snapshot-";
constexpr absl::string_view kFinalSuffix = ".snap";
constexpr absl::string_view kTempSuffix = ".tmp";
constexpr size_t kNumberDigits = 20;  // UINT64_MAX has 20 decimal digits

// Both headers (file and record) are sealed: bytes [0, 24) then their checksum.
constexpr size_t kSealedHeaderBytes = 24;

std::string encode_record(uint32_t type, uint64_t data_offset, absl::string_view payload) {
  REEF_ASSERT(payload.size() <= UINT32_MAX, "record payload of ", payload.size(), " bytes");
  std::string out(kRecordHeaderBytes + payload.size(), '\0');
  char* p = out.data();
  put_u32(p, type);
  put_u32(p + 4, static_cast<uint32_t>(payload.size()));
  put_u64(p + 8, data_offset);
  put_u64(p + 16, checksum(payload));
  encoding::seal(p, kSealedHeaderBytes);
  std::memcpy(p + kRecordHeaderBytes, payload.data(), payload.size());
  return out;
}

std::string padded(uint64_t value) {
  std::string digits = absl::StrCat(value);
  return std::string(kNumberDigits - digits.size(), '0') + digits;
}

std::optional<uint64_t> parse_padded(absl::string_view digits) {
  if (digits.size() != kNumberDigits) return std::nullopt;
  uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::string name_stem(raft::Index index, raft::Term term) {
  return absl::StrCat(kPrefix, padded(index.value()), "-", padded(term.value()));
}

// (index, term) of a final snapshot name, nullopt for any other name.
std::optional<std::pair<raft::Index, raft::Term>> parse_final_name(absl::string_view name) {
  if (name.size() != kPrefix.size() + 2 * kNumberDigits + 1 + kFinalSuffix.size()) return std::nullopt;
  if (!absl::StartsWith(name, kPrefix) || !absl::EndsWith(name, kFinalSuffix)) return std::nullopt;
  name.remove_prefix(kPrefix.size());
  if (name[kNumberDigits] != '-') return std::nullopt;
  std::optional<uint64_t> index = parse_padded(name.substr(0, kNumberDigits));
  std::optional<uint64_t> term = parse_padded(name.substr(kNumberDigits + 1, kNumberDigits));
  if (!index || !term) return std::nullopt;
  return std::make_pair(raft::Index(*index), raft::Term(*term));
}

bool is_temp_name(absl::string_view name) {
  return absl::StartsWith(name, kPrefix) && absl::EndsWith(name, kTempSuffix);
}

}  // namespace

// ---------------------------------------------------------------- reader

SnapshotReader::SnapshotReader(std::unique_ptr<File> file, SnapshotStoreOptions options)
    : file_(std::move(file)), options_(options) {}

absl::StatusOr<std::unique_ptr<SnapshotReader>> SnapshotReader::open(FileSystem* fs, const std::string& path,
                                                                     uint64_t data_offset,
                                                                     const SnapshotStoreOptions& options) {
  REEF_ASSERT(fs != nullptr, "SnapshotReader needs a file system");
  REEF_ASSERT(options.max_chunk_bytes > 0, "max_chunk_bytes must be positive");
  absl::StatusOr<std::unique_ptr<File>> file = fs->open(path, OpenMode::kExisting);
  if (!file.ok()) return file.status();
  std::unique_ptr<SnapshotReader> reader(new SnapshotReader(std::move(*file), options));
  if (absl::Status s = reader->load(data_offset); !s.ok()) return s;
  return reader;
}

absl::Status SnapshotReader::data_loss(uint64_t offset, absl::string_view what) const {
  return absl::DataLossError(absl::StrCat(file_->path(), ": offset ", offset, ": ", what));
}

absl::Status SnapshotReader::load(uint64_t data_offset) {
  info_.path = file_->path();
  absl::StatusOr<uint64_t> size = file_->size();
  if (!size.ok()) return size.status();
  file_bytes_ = *size;
  if (absl::Status s = load_header_and_meta(); !s.ok()) return s;
  if (absl::Status s = load_end_record(); !s.ok()) return s;
  if (data_offset > info_.data_bytes) {
    return absl::OutOfRangeError(absl::StrCat(info_.path, ": data offset ", data_offset, " is past the end (",
                                              info_.data_bytes, " data bytes)"));
  }
  return seek(data_offset);
}

absl::Status SnapshotReader::load_header_and_meta() {
  if (file_bytes_ < kFileHeaderBytes) {
    return data_loss(0, absl::StrCat("file of ", file_bytes_, " bytes is shorter than the header"));
  }
  absl::StatusOr<std::string> header = file_->read_at(0, kFileHeaderBytes);
  if (!header.ok()) return header.status();
  if (header->size() != kFileHeaderBytes) return data_loss(0, "short read of the header");
  const char* p = header->data();
  if (std::memcmp(p, kMagic, sizeof(kMagic)) != 0) return data_loss(0, "bad magic: not a snapshot file");
  if (!encoding::seal_matches(p, kSealedHeaderBytes)) return data_loss(24, "header checksum mismatch");
  const uint64_t version = get_u32(p + 8);
  if (version != SnapshotStore::kFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(info_.path, ": snapshot format version ", version,
                                                      "; this build reads version ",
                                                      SnapshotStore::kFormatVersion));
  }
  const uint64_t meta_bytes = get_u32(p + 12);
  if (meta_bytes == 0 || meta_bytes > kMaxMetaBytes) {
    return data_loss(12,
                     absl::StrCat("meta length ", meta_bytes, " out of range (limit ", kMaxMetaBytes, ")"));
  }
  if (kFileHeaderBytes + meta_bytes > file_bytes_) {
    return data_loss(12, absl::StrCat("meta of ", meta_bytes, " bytes runs past the end of the file (",
                                      file_bytes_, " bytes)"));
  }
  meta_checksum_ = get_u64(p + 16);
  absl::StatusOr<std::string> meta = file_->read_at(kFileHeaderBytes, meta_bytes);
  if (!meta.ok()) return meta.status();
  if (meta->size() != meta_bytes) return data_loss(kFileHeaderBytes, "short read of the meta");
  if (checksum(*meta) != meta_checksum_) return data_loss(kFileHeaderBytes, "meta checksum mismatch");
  absl::StatusOr<raft::SnapshotMeta> decoded = encoding::decode_snapshot_file_meta(*meta);
  if (!decoded.ok()) return data_loss(kFileHeaderBytes, absl::StrCat("meta: ", decoded.status().message()));
  info_.meta = std::move(*decoded);
  records_begin_ = kFileHeaderBytes + meta_bytes;
  return absl::OkStatus();
}

absl::Status SnapshotReader::load_end_record() {
  // A snapshot without its end record is partial; under a final name that
  // can only be media damage, since the end record is synced before the rename.
  if (file_bytes_ < records_begin_ + kEndRecordBytes) {
    return data_loss(file_bytes_, "file ends before an end record");
  }
  end_record_ = file_bytes_ - kEndRecordBytes;
  absl::StatusOr<RecordHeader> header = read_record_header(end_record_);
  if (!header.ok()) return header.status();
  if (header->type != kRecordEnd) {
    return data_loss(end_record_, absl::StrCat("last record has type ", header->type, ", not end"));
  }
  absl::StatusOr<std::string> payload = file_->read_at(end_record_ + kRecordHeaderBytes, kEndPayloadBytes);
  if (!payload.ok()) return payload.status();
  if (payload->size() != kEndPayloadBytes) return data_loss(end_record_, "short read of the end record");
  if (checksum(*payload) != header->payload_checksum)
    return data_loss(end_record_, "end record checksum mismatch");
  if (get_u64(payload->data() + 8) != meta_checksum_) {
    return data_loss(end_record_, "end record belongs to a different snapshot (meta checksum differs)");
  }
  info_.data_bytes = header->data_offset;
  info_.chunk_count = get_u64(payload->data());
  // Every byte between the meta and the end record is a data record, so the
  // sizes must add up exactly; this catches a lost or duplicated range early.
  const uint64_t records_bytes = end_record_ - records_begin_;
  if (info_.chunk_count > records_bytes / kRecordHeaderBytes ||
      info_.data_bytes != records_bytes - info_.chunk_count * kRecordHeaderBytes) {
    return data_loss(end_record_,
                     absl::StrCat("end record claims ", info_.chunk_count, " chunks of ", info_.data_bytes,
                                  " data bytes, but the records take ", records_bytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::StatusOr<SnapshotReader::RecordHeader> SnapshotReader::read_record_header(uint64_t offset) {
  if (offset + kRecordHeaderBytes > file_bytes_) {
    return data_loss(offset,
                     absl::StrCat("record header runs past the end of the file (", file_bytes_, " bytes)"));
  }
  absl::StatusOr<std::string> bytes = file_->read_at(offset, kRecordHeaderBytes);
  if (!bytes.ok()) return bytes.status();
  if (bytes->size() != kRecordHeaderBytes) return data_loss(offset, "short read of a record header");
  const char* p = bytes->data();
  if (!encoding::seal_matches(p, kSealedHeaderBytes)) return data_loss(offset, "record header checksum mismatch");
  RecordHeader header;
  header.type = get_u32(p);
  header.length = get_u32(p + 4);
  header.data_offset = get_u64(p + 8);
  header.payload_checksum = get_u64(p + 16);
  if (header.type == kRecordData) {
    if (header.length == 0 || header.length > options_.max_chunk_bytes) {
      return data_loss(offset, absl::StrCat("chunk length ", header.length, " out of range (limit ",
                                            options_.max_chunk_bytes, ")"));
    }
  } else if (header.type == kRecordEnd) {
    if (header.length != kEndPayloadBytes) {
      return data_loss(offset,
                       absl::StrCat("end record length ", header.length, ", expected ", kEndPayloadBytes));
    }
  } else {
    return data_loss(offset, absl::StrCat("unknown record type ", header.type));
  }
  if (offset + kRecordHeaderBytes + header.length > file_bytes_) {
    return data_loss(offset,
                     absl::StrCat("record of ", header.length, " bytes runs past the end of the file"));
  }
  return header;
}

// Checks that the record at next_record_ continues the chain: chunks are
// contiguous in the data stream and the end record comes last.
absl::Status SnapshotReader::check_chain(const RecordHeader& header) const {
  if (header.type == kRecordEnd) {
    if (next_record_ != end_record_) return data_loss(next_record_, "end record before the end of the file");
    if (header.data_offset != next_data_ || chunks_read_ != info_.chunk_count) {
      return data_loss(next_record_, absl::StrCat("end record counts ", info_.chunk_count, " chunks of ",
                                                  header.data_offset, " bytes; found ", chunks_read_,
                                                  " chunks of ", next_data_, " bytes"));
    }
    return absl::OkStatus();
  }
  if (next_record_ + kRecordHeaderBytes + header.length > end_record_) {
    return data_loss(next_record_, "chunk runs into the end record");
  }
  if (header.data_offset != next_data_) {
    return data_loss(next_record_, absl::StrCat("chunk starts at data offset ", header.data_offset,
                                                ", expected ", next_data_));
  }
  return absl::OkStatus();
}

absl::Status SnapshotReader::seek(uint64_t data_offset) {
  next_record_ = records_begin_;
  next_data_ = 0;
  chunks_read_ = 0;
  position_ = data_offset;
  // Walks record headers only (no payload reads); at most one per chunk
  // plus the end record.
  for (uint64_t i = 0; i <= info_.chunk_count; ++i) {
    absl::StatusOr<RecordHeader> header = read_record_header(next_record_);
    if (!header.ok()) return header.status();
    if (absl::Status s = check_chain(*header); !s.ok()) return s;
    if (header->type == kRecordEnd || header->data_offset + header->length > data_offset) {
      pending_ = *header;
      return absl::OkStatus();
    }
    next_record_ += kRecordHeaderBytes + header->length;
    next_data_ += header->length;
    ++chunks_read_;
  }
  return data_loss(next_record_, "more chunks than the end record counts");
}

absl::StatusOr<std::optional<SnapshotChunk>> SnapshotReader::next() {
  if (!broken_.ok()) return broken_;
  absl::StatusOr<std::optional<SnapshotChunk>> chunk = read_next();
  if (!chunk.ok()) broken_ = chunk.status();
  return chunk;
}

absl::StatusOr<std::optional<SnapshotChunk>> SnapshotReader::read_next() {
  if (done_) return std::nullopt;
  RecordHeader header;
  if (pending_) {
    header = *pending_;  // read and chain-checked by seek()
    pending_.reset();
  } else {
    absl::StatusOr<RecordHeader> read = read_record_header(next_record_);
    if (!read.ok()) return read.status();
    if (absl::Status s = check_chain(*read); !s.ok()) return s;
    header = *read;
  }
  if (header.type == kRecordEnd) {
    done_ = true;
    return std::nullopt;
  }
  const uint64_t payload_offset = next_record_ + kRecordHeaderBytes;
  absl::StatusOr<std::string> payload = file_->read_at(payload_offset, header.length);
  if (!payload.ok()) return payload.status();
  if (payload->size() != header.length) return data_loss(payload_offset, "short read of a chunk");
  if (checksum(*payload) != header.payload_checksum) {
    return data_loss(payload_offset, absl::StrCat("chunk checksum mismatch (data offset ", header.data_offset,
                                                  ", ", header.length, " bytes)"));
  }
  REEF_ASSERT(position_ >= header.data_offset && position_ < header.data_offset + header.length, "position ",
              position_, " outside chunk at ", header.data_offset);
  SnapshotChunk chunk;
  chunk.offset = position_;
  chunk.data = std::move(*payload);
  chunk.data.erase(0, position_ - header.data_offset);
  next_record_ = payload_offset + header.length;
  next_data_ += header.length;
  ++chunks_read_;
  position_ = next_data_;
  return chunk;
}

// ---------------------------------------------------------------- writer

SnapshotWriter::SnapshotWriter(SnapshotStore* store, std::unique_ptr<File> file, raft::SnapshotMeta meta,
                               std::string temp_path, std::string final_path, uint64_t file_bytes,
                               uint64_t meta_checksum)
    : store_(store),
      file_(std::move(file)),
      meta_(std::move(meta)),
      temp_path_(std::move(temp_path)),
      final_path_(std::move(final_path)),
      file_bytes_(file_bytes),
      meta_checksum_(meta_checksum) {
  ++store_->open_writers_;
}

SnapshotWriter::~SnapshotWriter() {
  abort();
  REEF_ASSERT(store_->open_writers_ > 0, "writer count underflow");
  --store_->open_writers_;
}

absl::Status SnapshotWriter::failed(absl::Status status) {
  REEF_ASSERT(!status.ok(), "failed() with OK");
  state_ = State::kFailed;
  failure_ =
      absl::Status(status.code(), absl::StrCat("writing snapshot ", final_path_, ": ", status.message()));
  return failure_;
}

absl::Status SnapshotWriter::add_chunk(absl::string_view data) {
  if (state_ != State::kOpen) {
    return absl::FailedPreconditionError(absl::StrCat(temp_path_, ": snapshot writer is no longer open",
                                                      failure_.ok() ? "" : ": ", failure_.message()));
  }
  const uint64_t max_chunk = store_->options_.max_chunk_bytes;
  while (!data.empty()) {
    const absl::string_view piece = data.substr(0, max_chunk);
    const std::string record = encode_record(kRecordData, data_bytes_, piece);
    if (absl::Status s = file_->append(record); !s.ok()) return failed(std::move(s));
    file_bytes_ += record.size();
    data_bytes_ += piece.size();
    ++chunk_count_;
    data.remove_prefix(piece.size());
  }
  return absl::OkStatus();
}

absl::StatusOr<SnapshotInfo> SnapshotWriter::finish() {
  if (state_ != State::kOpen) {
    return absl::FailedPreconditionError(absl::StrCat(temp_path_, ": snapshot writer is no longer open",
                                                      failure_.ok() ? "" : ": ", failure_.message()));
  }
  if (store_->superseded(meta_)) {
    abort();
    return absl::FailedPreconditionError(
        absl::StrCat(final_path_, ": a snapshot at index ", store_->latest_->meta.index.value(),
                     " was installed meanwhile; this one (index ", meta_.index.value(), ") is dropped"));
  }
  std::string payload(kEndPayloadBytes, '\0');
  put_u64(payload.data(), chunk_count_);
  put_u64(payload.data() + 8, meta_checksum_);
  const std::string record = encode_record(kRecordEnd, data_bytes_, payload);
  if (absl::Status s = file_->append(record); !s.ok()) return failed(std::move(s));
  // Data before name: once the rename is visible the bytes must already be
  // durable, or a crash could leave a partial file under a final name.
  if (absl::Status s = file_->sync(); !s.ok()) return failed(std::move(s));
  FileSystem* fs = store_->fs_;
  if (absl::Status s = fs->rename(temp_path_, final_path_); !s.ok()) return failed(std::move(s));
  if (absl::Status s = fs->sync_dir(store_->dir_); !s.ok()) return failed(std::move(s));
  file_bytes_ += record.size();
  state_ = State::kFinished;
  file_.reset();
  SnapshotInfo info{meta_, final_path_, data_bytes_, chunk_count_};
  store_->install(info);
  return info;
}

void SnapshotWriter::abort() {
  if (state_ == State::kFinished || state_ == State::kAborted) return;
  state_ = State::kAborted;
  file_.reset();
  // Best effort: NOT_FOUND after a rename that went through is fine, and any
  // leftover temp file is removed by the next open.
  store_->fs_->remove(temp_path_).IgnoreError();
}

// ---------------------------------------------------------------- store

SnapshotStore::SnapshotStore(FileSystem* fs, std::string dir, SnapshotStoreOptions options, bool read_only)
    : fs_(fs), dir_(std::move(dir)), options_(options), read_only_(read_only) {}

SnapshotStore::~SnapshotStore() {
  REEF_ASSERT(open_writers_ == 0, open_writers_, " snapshot writers outlive their store");
}

std::string SnapshotStore::file_name(raft::Index index, raft::Term term) {
  return absl::StrCat(name_stem(index, term), kFinalSuffix);
}

absl::StatusOr<std::unique_ptr<SnapshotStore>> SnapshotStore::open(FileSystem* fs, std::string dir,
                                                                   SnapshotStoreOptions options) {
  return open_mode(fs, std::move(dir), options, /*read_only=*/false);
}

absl::StatusOr<std::unique_ptr<SnapshotStore>> SnapshotStore::open_read_only(FileSystem* fs, std::string dir,
                                                                             SnapshotStoreOptions options) {
  return open_mode(fs, std::move(dir), options, /*read_only=*/true);
}

absl::StatusOr<std::unique_ptr<SnapshotStore>> SnapshotStore::open_mode(FileSystem* fs, std::string dir,
                                                                        SnapshotStoreOptions options,
                                                                        bool read_only) {
  REEF_ASSERT(fs != nullptr, "SnapshotStore needs a file system");
  REEF_ASSERT(options.max_chunk_bytes > 0, "max_chunk_bytes must be positive");
  std::unique_ptr<SnapshotStore> store(new SnapshotStore(fs, std::move(dir), options, read_only));
  if (absl::Status s = store->load(); !s.ok()) return s;
  return store;
}

void SnapshotStore::warn(std::string warning) {
  if (warnings_.size() < kMaxWarnings) {
    warnings_.push_back(std::move(warning));
    return;
  }
  ++warnings_dropped_;
  const std::string summary = absl::StrCat("... and ", warnings_dropped_, " more warnings");
  if (warnings_.size() == kMaxWarnings) {
    warnings_.push_back(summary);
  } else {
    warnings_.back() = summary;
  }
}

absl::Status SnapshotStore::prepare_dir() {
  if (!read_only_) return fs_->create_dir(dir_);
  absl::StatusOr<bool> exists = fs_->exists(dir_);
  if (!exists.ok()) return exists.status();
  if (!*exists) return absl::NotFoundError(absl::StrCat(dir_, ": no such directory"));
  return absl::OkStatus();
}

absl::Status SnapshotStore::discard(const std::string& name, absl::string_view why, bool* removed) {
  const std::string path = join_path(dir_, name);
  if (read_only_) {
    warn(absl::StrCat(path, ": ", why, "; open removes it"));
    return absl::OkStatus();
  }
  if (absl::Status s = fs_->remove(path); !s.ok()) return s;
  *removed = true;
  return absl::OkStatus();
}

absl::Status SnapshotStore::load() {
  if (absl::Status s = prepare_dir(); !s.ok()) return s;
  absl::StatusOr<std::vector<std::string>> names = fs_->list(dir_);
  if (!names.ok()) return names.status();
  struct Candidate {
    std::string name;
    raft::Index index;
    raft::Term term;
  };
  std::vector<Candidate> candidates;  // sorted oldest first, like the names
  bool removed = false;
  for (const std::string& name : *names) {
    if (is_temp_name(name)) {
      // A snapshot that never finished: never acknowledged, so garbage.
      if (absl::Status s = discard(name, "unfinished snapshot", &removed); !s.ok()) return s;
    } else if (auto parsed = parse_final_name(name)) {
      candidates.push_back({name, parsed->first, parsed->second});
    } else {
      warn(absl::StrCat(join_path(dir_, name), ": not a snapshot file name; ignored"));
    }
  }
  size_t chosen = candidates.size();
  for (size_t i = candidates.size(); i-- > 0;) {
    absl::StatusOr<SnapshotInfo> info = verify(candidates[i].name, candidates[i].index, candidates[i].term);
    if (info.ok()) {
      latest_ = std::move(*info);
      chosen = i;
      break;
    }
    // Only damage is skipped; an I/O error or an unknown format must not
    // make us fall back to an older snapshot silently.
    if (!absl::IsDataLoss(info.status())) return info.status();
    warn(absl::StrCat(info.status().message(), "; snapshot skipped"));
  }
  if (latest_ && options_.verify_data_on_open) {
    for (size_t i = 0; i < chosen; ++i) {
      if (absl::Status s = discard(candidates[i].name, "superseded by a newer valid snapshot", &removed);
          !s.ok()) {
        return s;
      }
    }
  }
  if (removed) return fs_->sync_dir(dir_);
  return absl::OkStatus();
}

absl::StatusOr<SnapshotInfo> SnapshotStore::verify(const std::string& name, raft::Index index,
                                                   raft::Term term) {
  const std::string path = join_path(dir_, name);
  absl::StatusOr<std::unique_ptr<SnapshotReader>> reader = SnapshotReader::open(fs_, path, 0, options_);
  if (!reader.ok()) return reader.status();
  const SnapshotInfo& info = (*reader)->info();
  if (info.meta.index != index || info.meta.term != term) {
    return absl::DataLossError(absl::StrCat(path, ": header says index ", info.meta.index.value(), " term ",
                                            info.meta.term.value(), ", which does not match the name"));
  }
  if (options_.verify_data_on_open) {
    // Bounded: the reader stops after chunk_count chunks or fails.
    while (true) {
      absl::StatusOr<std::optional<SnapshotChunk>> chunk = (*reader)->next();
      if (!chunk.ok()) return chunk.status();
      if (!chunk->has_value()) break;
    }
  }
  return info;
}

bool SnapshotStore::superseded(const raft::SnapshotMeta& meta) const {
  return latest_ && meta.index <= latest_->meta.index;
}

absl::StatusOr<std::unique_ptr<SnapshotWriter>> SnapshotStore::begin(const raft::SnapshotMeta& meta) {
  if (read_only_) return absl::FailedPreconditionError(absl::StrCat(dir_, ": opened read-only"));
  if (absl::Status s = meta.configuration.validate(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("snapshot meta: ", s.message()));
  }
  if (superseded(meta)) {
    return absl::FailedPreconditionError(absl::StrCat(dir_, ": snapshot at index ", meta.index.value(),
                                                      " is not newer than the latest at index ",
                                                      latest_->meta.index.value()));
  }
  const std::string meta_bytes = encoding::encode_snapshot_file_meta(meta);
  if (meta_bytes.size() > SnapshotReader::kMaxMetaBytes) {
    return absl::InvalidArgumentError(absl::StrCat("snapshot meta of ", meta_bytes.size(),
                                                   " bytes exceeds the limit of ",
                                                   SnapshotReader::kMaxMetaBytes));
  }
  const uint64_t meta_checksum = checksum(meta_bytes);
  std::string head(kFileHeaderBytes, '\0');
  char* p = head.data();
  std::memcpy(p, kMagic, sizeof(kMagic));
  put_u32(p + 8, kFormatVersion);
  put_u32(p + 12, static_cast<uint32_t>(meta_bytes.size()));
  put_u64(p + 16, meta_checksum);
  encoding::seal(p, kSealedHeaderBytes);
  head += meta_bytes;

  const std::string temp_path =
      join_path(dir_, absl::StrCat(name_stem(meta.index, meta.term), ".", next_writer_id_++, kTempSuffix));
  absl::StatusOr<std::unique_ptr<File>> file = fs_->open(temp_path, OpenMode::kCreateNew);
  if (!file.ok()) return file.status();
  if (absl::Status s = (*file)->append(head); !s.ok()) {
    file->reset();
    fs_->remove(temp_path).IgnoreError();
    return s;
  }
  return std::unique_ptr<SnapshotWriter>(new SnapshotWriter(this, std::move(*file), meta, temp_path,
                                                            join_path(dir_, file_name(meta.index, meta.term)),
                                                            head.size(), meta_checksum));
}

absl::StatusOr<std::unique_ptr<SnapshotReader>> SnapshotStore::open_reader(uint64_t data_offset) const {
  if (!latest_) return absl::NotFoundError(absl::StrCat(dir_, ": no snapshot"));
  return SnapshotReader::open(fs_, latest_->path, data_offset, options_);
}

void SnapshotStore::install(const SnapshotInfo& info) {
  REEF_ASSERT(!superseded(info.meta), "installing snapshot ", info.meta.index.value(), " over a newer one");
  latest_ = info;
  // The new snapshot is durable: everything else under a final name is
  // superseded (older ones, and damaged or unacknowledged newer ones).
  // Failures here lose nothing; a leftover is removed by a later install or
  // open, so they are warnings, not errors of the install.
  absl::StatusOr<std::vector<std::string>> names = fs_->list(dir_);
  if (!names.ok()) {
    warn(absl::StrCat("cleanup after installing ", info.path, ": ", names.status().message()));
    return;
  }
  bool removed = false;
  for (const std::string& name : *names) {
    const std::string path = join_path(dir_, name);
    if (path == info.path || !parse_final_name(name)) continue;
    if (absl::Status s = fs_->remove(path); !s.ok()) {
      warn(absl::StrCat("cleanup after installing ", info.path, ": ", s.message()));
    } else {
      removed = true;
    }
  }
  if (!removed) return;
  if (absl::Status s = fs_->sync_dir(dir_); !s.ok()) {
    warn(absl::StrCat("cleanup after installing ", info.path, ": ", s.message()));
  }
}

}  // namespace reef::storage
