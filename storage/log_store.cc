#include "storage/log_store.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <variant>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "encoding/checksummed_record.h"
#include "encoding/little_endian.h"
#include "encoding/membership_codec.h"
#include "log_record_generated.h"
#include "raft/core/assert.h"

namespace reef::storage {

using encoding::checksum;
using encoding::get_u32;
using encoding::get_u64;
using encoding::put_u32;
using encoding::put_u64;

namespace {

constexpr absl::string_view kPrefix = "log-";
constexpr absl::string_view kSuffix = ".seg";
constexpr size_t kNumberDigits = 20;       // UINT64_MAX has 20 decimal digits
constexpr uint64_t kReadWindow = 1 << 20;  // recovery reads segments in pieces of this size

std::optional<uint64_t> parse_segment_name(absl::string_view name) {
  if (name.size() != kPrefix.size() + kNumberDigits + kSuffix.size()) return std::nullopt;
  if (!absl::StartsWith(name, kPrefix) || !absl::EndsWith(name, kSuffix)) return std::nullopt;
  uint64_t value = 0;
  for (char c : name.substr(kPrefix.size(), kNumberDigits)) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

void encode_record(flatbuffers::FlatBufferBuilder& builder, const raft::LogEntry& entry, std::string* out) {
  builder.Clear();
  auto payload =
      builder.CreateVector(reinterpret_cast<const uint8_t*>(entry.payload.data()), entry.payload.size());
  flatbuffers::Offset<encoding::fbs::ConfigurationRecord> configuration;
  if (entry.configuration) configuration = encoding::encode_configuration(builder, *entry.configuration);
  auto root = fbs::CreateEntry(builder, entry.term.value(), entry.index.value(),
                               static_cast<uint8_t>(entry.type), payload, configuration);
  fbs::FinishEntryBuffer(builder, root);
  const absl::string_view body(reinterpret_cast<const char*>(builder.GetBufferPointer()), builder.GetSize());
  REEF_ASSERT(body.size() <= UINT32_MAX, "record body of ", body.size(), " bytes");
  char header[LogStore::kRecordHeaderBytes];
  header[0] = static_cast<char>(LogStore::kFormatVersion);
  put_u32(header + 1, static_cast<uint32_t>(body.size()));
  put_u64(header + 5, checksum(body));
  out->append(header, sizeof(header));
  out->append(body.data(), body.size());
}

// One record as found on disk.
struct Parsed {
  enum Kind {
    kValid,    // framing, checksum and FlatBuffer sound
    kTorn,     // framing or checksum wrong: what a torn write leaves
    kInvalid,  // checksum matches but the body is not a valid entry
  };
  Kind kind = kTorn;
  std::string reason;   // for kTorn and kInvalid
  uint64_t length = 0;  // whole record, for kValid
  uint64_t term = 0;
  uint64_t index = 0;
  raft::EntryType type = raft::EntryType::kNormal;
};

// Decodes a body whose checksum matched; fills `entry`'s payload and
// configuration unless it is null.
Parsed decode_body(absl::string_view body, raft::LogEntry* entry_out) {
  Parsed parsed;
  // Copied into heap memory so the verifier's alignment checks see the
  // alignment the buffer was built with.
  const std::vector<uint8_t> buffer(body.begin(), body.end());
  flatbuffers::Verifier verifier(buffer.data(), buffer.size());
  if (!fbs::VerifyEntryBuffer(verifier)) {
    parsed.kind = Parsed::kInvalid;
    parsed.reason = "checksum matches but the body is not a valid Entry FlatBuffer";
    return parsed;
  }
  const fbs::Entry* entry = fbs::GetEntry(buffer.data());
  // The type and configuration are checked on every decode, the scan at
  // open too, so a malformed one is found when the log is opened, not when
  // it is read.
  raft::LogEntry scratch;
  raft::LogEntry& out = entry_out != nullptr ? *entry_out : scratch;
  if (absl::Status s = encoding::decode_entry_kind(entry->type(), entry->configuration(), out); !s.ok()) {
    parsed.kind = Parsed::kInvalid;
    parsed.reason = absl::StrCat("entry ", entry->index(), ": ", s.message());
    return parsed;
  }
  parsed.term = entry->term();
  parsed.index = entry->index();
  parsed.type = out.type;
  if (entry_out != nullptr) {
    entry_out->payload.clear();
    if (entry->payload() != nullptr) {
      entry_out->payload.assign(reinterpret_cast<const char*>(entry->payload()->data()), entry->payload()->size());
    }
  }
  parsed.kind = Parsed::kValid;
  return parsed;
}

// Non-empty if the version byte of the record header `header` is not ours.
std::string version_problem(absl::string_view header) {
  const int version = static_cast<uint8_t>(header[0]);
  if (version == LogStore::kFormatVersion) return "";
  return absl::StrCat("record format version ", version, "; this build reads version ",
                      static_cast<int>(LogStore::kFormatVersion));
}

// Checks the length in the record header `header` (13 bytes) against the
// limit and the bytes left in the file; returns it or a kTorn reason. The
// version byte is judged later (see parse_at).
std::variant<uint64_t, std::string> check_header(absl::string_view header, uint64_t left, uint64_t max_body) {
  const uint64_t length = get_u32(header.data() + 1);
  if (length == 0 || length > max_body) {
    return absl::StrCat("record length ", length, " out of range (limit ", max_body, ")");
  }
  if (LogStore::kRecordHeaderBytes + length > left) {
    return absl::StrCat("record of ", length, " bytes runs past the end of the file");
  }
  return length;
}

// Reads a segment in windows so recovery neither issues one read per record
// nor allocates more than a window plus one (bounded) record.
class SegmentReader {
 public:
  SegmentReader(File& file, uint64_t size) : file_(file), size_(size) {}
  uint64_t size() const { return size_; }
  // Exactly `n` bytes at `offset`; offset + n <= size() is the caller's job.
  absl::StatusOr<absl::string_view> get(uint64_t offset, uint64_t n) {
    REEF_ASSERT(offset + n <= size_, "read past the segment end");
    if (offset < window_offset_ || offset + n > window_offset_ + window_.size()) {
      const uint64_t want = std::min(std::max(n, kReadWindow), size_ - offset);
      absl::StatusOr<std::string> data = file_.read_at(offset, want);
      if (!data.ok()) return data.status();
      if (data->size() != want) {
        return absl::DataLossError(absl::StrCat(file_.path(), ": offset ", offset, ": short read (",
                                                data->size(), " of ", want, " bytes)"));
      }
      window_ = std::move(*data);
      window_offset_ = offset;
    }
    return absl::string_view(window_).substr(offset - window_offset_, n);
  }

 private:
  File& file_;
  uint64_t size_;
  uint64_t window_offset_ = 0;
  std::string window_;
};

absl::StatusOr<Parsed> parse_at(SegmentReader& reader, uint64_t offset, uint64_t max_body) {
  Parsed parsed;
  const uint64_t left = reader.size() - offset;
  if (left < LogStore::kRecordHeaderBytes) {
    parsed.reason = absl::StrCat("partial record header (", left, " bytes)");
    return parsed;
  }
  absl::StatusOr<absl::string_view> header_view = reader.get(offset, LogStore::kRecordHeaderBytes);
  if (!header_view.ok()) return header_view.status();
  // A copy: the reads below may replace the reader's window under the view.
  const std::string header(*header_view);
  std::variant<uint64_t, std::string> length = check_header(header, left, max_body);
  if (std::holds_alternative<std::string>(length)) {
    parsed.reason = std::get<std::string>(length);
    return parsed;
  }
  const uint64_t body_bytes = std::get<uint64_t>(length);
  const uint64_t expected = get_u64(header.data() + 5);
  // Every body we write starts with a root offset and the file identifier;
  // checking it first keeps the resynchronising scan in load_segment from
  // hashing megabytes at every offset whose bytes merely look like a header.
  if (body_bytes < 8) {
    parsed.reason = absl::StrCat("record body of ", body_bytes, " bytes is too short for an Entry");
    return parsed;
  }
  absl::StatusOr<absl::string_view> prefix = reader.get(offset, LogStore::kRecordHeaderBytes + 8);
  if (!prefix.ok()) return prefix.status();
  if (prefix->substr(LogStore::kRecordHeaderBytes + 4, 4) != absl::string_view(fbs::EntryIdentifier(), 4)) {
    parsed.reason = "record body lacks the Entry file identifier";
    return parsed;
  }
  absl::StatusOr<absl::string_view> record = reader.get(offset, LogStore::kRecordHeaderBytes + body_bytes);
  if (!record.ok()) return record.status();
  const absl::string_view body = record->substr(LogStore::kRecordHeaderBytes);
  if (checksum(body) != expected) {
    parsed.reason = "record checksum mismatch";
    return parsed;
  }
  // Only now: a wrong version byte in front of a body whose checksum matches
  // is no torn write (a newer format, or a flipped bit) and must not be cut.
  if (std::string problem = version_problem(header); !problem.empty()) {
    parsed.kind = Parsed::kInvalid;
    parsed.reason = std::move(problem);
    return parsed;
  }
  parsed = decode_body(body, nullptr);
  parsed.length = LogStore::kRecordHeaderBytes + body_bytes;
  return parsed;
}

// Where the non-zero bytes from `offset` on end (`offset` itself if there
// are none: the unused part of a preallocated segment). A torn write into
// reserved space is followed by zeros that were never part of it.
absl::StatusOr<uint64_t> end_of_nonzero(SegmentReader& reader, uint64_t offset) {
  uint64_t end = reader.size();
  while (end > offset) {
    const uint64_t n = std::min(kReadWindow, end - offset);
    absl::StatusOr<absl::string_view> bytes = reader.get(end - n, n);
    if (!bytes.ok()) return bytes.status();
    const size_t last = bytes->find_last_not_of('\0');
    if (last != absl::string_view::npos) return end - n + last + 1;
    end -= n;
  }
  return offset;
}

std::string index_range(uint64_t from, std::optional<uint64_t> next_first) {
  if (next_first && *next_first > from) return absl::StrCat("indexes ", from, "..", *next_first - 1);
  return absl::StrCat("indexes ", from, "..(end of log)");
}

}  // namespace

std::string LogStore::segment_name(raft::Index first) {
  std::string digits = absl::StrCat(first.value());
  return absl::StrCat(kPrefix, std::string(kNumberDigits - digits.size(), '0'), digits, kSuffix);
}

LogStore::LogStore(FileSystem& fs, std::string dir, LogStoreOptions options, bool read_only)
    : fs_(fs), dir_(std::move(dir)), options_(options), read_only_(read_only) {}

LogStore::~LogStore() = default;

absl::StatusOr<std::unique_ptr<LogStore>> LogStore::open(FileSystem& fs, std::string dir,
                                                         LogStoreOptions options) {
  REEF_ASSERT(options.segment_bytes > 0, "segment_bytes must be positive");
  std::unique_ptr<LogStore> store(new LogStore(fs, std::move(dir), options, /*read_only=*/false));
  if (absl::Status s = store->recover(); !s.ok()) return s;
  return store;
}

absl::StatusOr<std::unique_ptr<LogStore>> LogStore::open_read_only(FileSystem& fs, std::string dir,
                                                                   LogStoreOptions options) {
  REEF_ASSERT(options.segment_bytes > 0, "segment_bytes must be positive");
  std::unique_ptr<LogStore> store(new LogStore(fs, std::move(dir), options, /*read_only=*/true));
  if (absl::Status s = store->recover(); !s.ok()) return s;
  return store;
}

absl::Status LogStore::check_writable() const {
  if (read_only_) return absl::FailedPreconditionError(absl::StrCat("log store ", dir_, " is read-only"));
  return failed_;
}

raft::Index LogStore::first_index() const {
  return segments_.empty() ? raft::Index(0) : raft::Index(segments_.front().first);
}

raft::Index LogStore::last_index() const {
  return segments_.empty() ? raft::Index(0) : raft::Index(segments_.back().last());
}

absl::Status LogStore::poison(absl::Status status) {
  REEF_ASSERT(!status.ok(), "poison() with OK");
  failed_ = absl::Status(status.code(), absl::StrCat("log store ", dir_, ": ", status.message(),
                                                     " (store refuses changes until reopened)"));
  return failed_;
}

absl::Status LogStore::recover() {
  if (read_only_) {
    // Creating the directory would be a change; a missing one is the caller's mistake.
    absl::StatusOr<bool> exists = fs_.exists(dir_);
    if (!exists.ok()) return exists.status();
    if (!*exists) return absl::NotFoundError(absl::StrCat("log directory ", dir_, " does not exist"));
  } else if (absl::Status s = fs_.create_dir(dir_); !s.ok()) {
    return s;
  }
  absl::StatusOr<std::vector<std::string>> names = fs_.list(dir_);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    std::optional<uint64_t> first = parse_segment_name(name);
    if (!first) continue;  // not ours
    Segment segment;
    segment.first = *first;
    segment.path = join_path(dir_, name);
    segments_.push_back(std::move(segment));
  }
  // list() is sorted and names are zero-padded, so this is index order.
  for (size_t i = 0; i < segments_.size(); ++i) {
    Segment& segment = segments_[i];
    const bool is_last = i + 1 == segments_.size();
    const std::optional<uint64_t> next_first =
        is_last ? std::nullopt : std::optional<uint64_t>(segments_[i + 1].first);
    if (segment.first == 0) {
      return absl::DataLossError(absl::StrCat(segment.path, ": offset 0: segment name says first index 0; ",
                                              index_range(1, next_first), " affected"));
    }
    if (i > 0) {
      const uint64_t expected = segments_[i - 1].last() + 1;
      if (segment.first != expected) {
        return absl::DataLossError(
            absl::StrCat(segment.path, ": offset 0: segment starts at index ", segment.first,
                         " but the previous one ends at ", expected - 1,
                         segment.first > expected
                             ? absl::StrCat(" (missing indexes ", expected, "..", segment.first - 1, ")")
                             : std::string(" (overlap)")));
      }
    }
    previous_term_ = i > 0 ? segments_[i - 1].terms.back() : 0;
    if (absl::Status s = load_segment(segment, is_last, next_first); !s.ok()) return s;
    if (segment.offsets.empty()) {
      if (!is_last) {
        return absl::DataLossError(absl::StrCat(segment.path, ": offset 0: segment holds no records; ",
                                                index_range(segment.first, next_first), " missing"));
      }
      // Created, then crashed before its first record was durable.
      segment.file.reset();
      if (!read_only_) {
        if (absl::Status s = fs_.remove(segment.path); !s.ok()) return s;
        if (absl::Status s = fs_.sync_dir(dir_); !s.ok()) return s;
      }
      report_.removed_empty_segments.push_back(segment.path);
      segments_.pop_back();
      break;
    }
  }
  // What recovery read may still be only in the page cache (the process died,
  // the machine did not): make it durable before anything is built on it, or
  // a later power failure could take back entries the caller already saw.
  // A read-only store builds nothing on it, so it leaves durability alone.
  if (!read_only_) {
    if (!segments_.empty()) {
      if (absl::Status s = segments_.back().file->sync(); !s.ok()) return s;
    }
    if (absl::Status s = fs_.sync_dir(dir_); !s.ok()) return s;
  }
  report_.segments = segments_.size();
  for (const Segment& segment : segments_) report_.entries += segment.offsets.size();
  return absl::OkStatus();
}

absl::Status LogStore::load_segment(Segment& segment, bool is_last, std::optional<uint64_t> next_first) {
  absl::StatusOr<std::unique_ptr<File>> file = fs_.open(segment.path, OpenMode::kExisting);
  if (!file.ok()) return file.status();
  segment.file = std::move(*file);
  absl::StatusOr<uint64_t> size = segment.file->size();
  if (!size.ok()) return size.status();
  const uint64_t max_body = options_.max_entry_bytes + kMaxBodyOverhead;
  SegmentReader reader(*segment.file, *size);
  uint64_t offset = 0;
  while (offset < *size) {
    const uint64_t expected = segment.first + segment.offsets.size();
    absl::StatusOr<Parsed> parsed = parse_at(reader, offset, max_body);
    if (!parsed.ok()) return parsed.status();
    if (parsed->kind == Parsed::kValid) {
      if (parsed->index != expected) {
        return absl::DataLossError(absl::StrCat(
            segment.path, ": offset ", offset, ": record holds index ", parsed->index, ", expected ",
            expected, segment.offsets.empty() ? " (the segment name's first index)" : "", "; ",
            index_range(expected, next_first), " affected"));
      }
      const uint64_t previous_term = segment.terms.empty() ? previous_term_ : segment.terms.back();
      if (parsed->term < previous_term) {
        return absl::DataLossError(absl::StrCat(segment.path, ": offset ", offset, ": index ", expected,
                                                " has term ", parsed->term, " below the previous entry's ",
                                                previous_term, "; ", index_range(expected, next_first),
                                                " affected"));
      }
      segment.offsets.push_back(offset);
      segment.terms.push_back(parsed->term);
      offset += parsed->length;
      continue;
    }
    if (parsed->kind == Parsed::kInvalid || !is_last) {
      return absl::DataLossError(absl::StrCat(segment.path, ": offset ", offset, ": ", parsed->reason, "; ",
                                              index_range(expected, next_first), " affected",
                                              is_last ? "" : " (damage in a segment that is not the last)"));
    }
    absl::StatusOr<uint64_t> damaged_end = end_of_nonzero(reader, offset);
    if (!damaged_end.ok()) return damaged_end.status();
    if (*damaged_end == offset) break;  // preallocated space: the log ends here, kept for appends
    // A torn write leaves nothing valid after the tear (only a prefix of the
    // last write survives); a valid record further on means the damage is in
    // the middle of the log. A record starts with its non-zero version byte,
    // so none can start in the zeros after damaged_end.
    for (uint64_t probe = offset + 1; probe < *damaged_end && probe + kRecordHeaderBytes <= *size; ++probe) {
      absl::StatusOr<absl::string_view> first_byte = reader.get(probe, 1);
      if (!first_byte.ok()) return first_byte.status();
      if (static_cast<uint8_t>((*first_byte)[0]) != kFormatVersion) continue;
      absl::StatusOr<Parsed> later = parse_at(reader, probe, max_body);
      if (!later.ok()) return later.status();
      if (later->kind != Parsed::kValid) continue;
      return absl::DataLossError(absl::StrCat(segment.path, ": offset ", offset, ": ", parsed->reason,
                                              ", but a valid record (index ", later->index,
                                              ") follows at offset ", probe,
                                              ": corruption in the middle of the log, not a torn tail; ",
                                              index_range(expected, std::nullopt), " affected"));
    }
    // Synced by recover() once every segment is loaded. Read-only: the store
    // simply ends at `offset`, as it would after the cut.
    if (!read_only_) {
      if (absl::Status s = segment.file->truncate(offset); !s.ok()) return s;
      if (absl::Status s = reserve(*segment.file); !s.ok()) return s;
    }
    report_.cut_tail = RecoveryReport::CutTail{segment.path, offset, *damaged_end - offset, parsed->reason};
    segment.bytes = offset;
    return absl::OkStatus();
  }
  segment.bytes = offset;
  return absl::OkStatus();
}

absl::Status LogStore::reserve(File& file) {
  if (!options_.preallocate) return absl::OkStatus();
  return file.allocate(options_.segment_bytes);
}

absl::Status LogStore::append(const std::vector<raft::LogEntry>& entries) {
  if (absl::Status s = check_writable(); !s.ok()) return s;
  if (entries.empty()) return absl::OkStatus();
  const uint64_t start = entries.front().index.value();
  if (start == 0) return absl::InvalidArgumentError("append: index 0 is not a log index");
  if (!segments_.empty() && start != segments_.back().last() + 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "append: first index ", start, " does not follow the last index ", segments_.back().last()));
  }
  uint64_t previous_term = segments_.empty() ? 0 : segments_.back().terms.back();
  for (size_t i = 0; i < entries.size(); ++i) {
    const raft::LogEntry& entry = entries[i];
    if (entry.index.value() != start + i) {
      return absl::InvalidArgumentError(
          absl::StrCat("append: entry ", i, " has index ", entry.index.value(), ", expected ", start + i));
    }
    if (entry.term.value() < previous_term) {
      return absl::InvalidArgumentError(absl::StrCat("append: index ", entry.index.value(), " has term ",
                                                     entry.term.value(), " below ", previous_term));
    }
    previous_term = entry.term.value();
    if (entry.payload.size() > options_.max_entry_bytes) {
      return absl::InvalidArgumentError(absl::StrCat("append: index ", entry.index.value(), " payload of ",
                                                     entry.payload.size(), " bytes exceeds max_entry_bytes ",
                                                     options_.max_entry_bytes));
    }
    if (entry.type > raft::EntryType::kConfiguration ||
        (entry.type == raft::EntryType::kConfiguration) != entry.configuration.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("append: index ", entry.index.value(), " has an unknown type or a misplaced configuration"));
    }
  }

  // Plan: which records go to the current last segment and which to new ones.
  struct Piece {
    bool new_segment = false;
    uint64_t first = 0;
    uint64_t base = 0;  // segment size before this piece
    std::string bytes;
    std::vector<uint64_t> offsets;
    std::vector<uint64_t> terms;
  };
  std::vector<Piece> pieces;
  uint64_t current = segments_.empty() ? 0 : segments_.back().bytes;
  flatbuffers::FlatBufferBuilder builder(1024);
  std::string record;
  for (const raft::LogEntry& entry : entries) {
    record.clear();
    encode_record(builder, entry, &record);
    const bool roll = (segments_.empty() && pieces.empty()) ||
                      (current > 0 && current + record.size() > options_.segment_bytes);
    if (roll) {
      pieces.push_back(Piece{true, entry.index.value(), 0, {}, {}, {}});
      current = 0;
    } else if (pieces.empty()) {
      pieces.push_back(Piece{false, entry.index.value(), current, {}, {}, {}});
    }
    Piece& piece = pieces.back();
    piece.offsets.push_back(current);
    piece.terms.push_back(entry.term.value());
    piece.bytes += record;
    current += record.size();
  }

  // Each piece is trimmed to its records and synced before the next segment
  // is created, so only the last segment can ever hold a torn record or
  // unused space.
  if (pieces.front().new_segment && !segments_.empty() && options_.preallocate) {
    Segment& previous = segments_.back();
    if (absl::Status s = previous.file->truncate(previous.bytes); !s.ok()) return poison(s);
    if (absl::Status s = previous.file->sync(); !s.ok()) return poison(s);
  }
  std::vector<std::unique_ptr<File>> created;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const Piece& piece = pieces[i];
    File* file = nullptr;
    if (piece.new_segment) {
      absl::StatusOr<std::unique_ptr<File>> opened =
          fs_.open(join_path(dir_, segment_name(raft::Index(piece.first))), OpenMode::kCreateNew);
      if (!opened.ok()) return poison(opened.status());
      created.push_back(std::move(*opened));
      file = created.back().get();
      if (absl::Status s = reserve(*file); !s.ok()) return poison(s);
    } else {
      file = segments_.back().file.get();
    }
    if (absl::Status s = file->write_at(piece.base, piece.bytes); !s.ok()) return poison(s);
    const bool rolls_on = i + 1 < pieces.size();
    if (rolls_on && options_.preallocate) {
      if (absl::Status s = file->truncate(piece.base + piece.bytes.size()); !s.ok()) return poison(s);
    }
    if (absl::Status s = file->sync(); !s.ok()) return poison(s);
  }
  if (!created.empty()) {
    if (absl::Status s = fs_.sync_dir(dir_); !s.ok()) return poison(s);
  }

  size_t next_created = 0;
  for (Piece& piece : pieces) {
    if (piece.new_segment) {
      Segment segment;
      segment.first = piece.first;
      segment.path = join_path(dir_, segment_name(raft::Index(piece.first)));
      segment.file = std::move(created[next_created++]);
      segments_.push_back(std::move(segment));
    }
    Segment& segment = segments_.back();
    segment.offsets.insert(segment.offsets.end(), piece.offsets.begin(), piece.offsets.end());
    segment.terms.insert(segment.terms.end(), piece.terms.begin(), piece.terms.end());
    segment.bytes = piece.base + piece.bytes.size();
  }
  return absl::OkStatus();
}

absl::Status LogStore::remove_segment_file(const Segment& segment) {
  if (absl::Status s = fs_.remove(segment.path); !s.ok()) return s;
  return fs_.sync_dir(dir_);
}

absl::Status LogStore::truncate_suffix(raft::Index from) {
  if (absl::Status s = check_writable(); !s.ok()) return s;
  if (from.value() == 0) return absl::InvalidArgumentError("truncate_suffix: index 0 is not a log index");
  if (segments_.empty() || from.value() > segments_.back().last()) return absl::OkStatus();
  // Newest first, each removal durable before the next: see the top of the header.
  while (!segments_.empty() && segments_.back().first >= from.value()) {
    segments_.back().file.reset();
    if (absl::Status s = remove_segment_file(segments_.back()); !s.ok()) return poison(s);
    segments_.pop_back();
  }
  if (segments_.empty() || segments_.back().last() < from.value()) return absl::OkStatus();
  Segment& segment = segments_.back();
  const size_t keep = from.value() - segment.first;
  REEF_ASSERT(keep > 0 && keep < segment.offsets.size(), "truncate within segment keeps ", keep);
  const uint64_t new_size = segment.offsets[keep];
  if (absl::Status s = segment.file->truncate(new_size); !s.ok()) return poison(s);
  if (absl::Status s = reserve(*segment.file); !s.ok()) return poison(s);
  if (absl::Status s = segment.file->sync(); !s.ok()) return poison(s);
  segment.offsets.resize(keep);
  segment.terms.resize(keep);
  segment.bytes = new_size;
  return absl::OkStatus();
}

absl::Status LogStore::compact_prefix(raft::Index up_to) {
  if (absl::Status s = check_writable(); !s.ok()) return s;
  // Oldest first, each removal durable before the next, so the durable
  // segments always form a contiguous suffix of the log.
  while (segments_.size() > 1 && segments_.front().last() <= up_to.value()) {
    segments_.front().file.reset();
    if (absl::Status s = remove_segment_file(segments_.front()); !s.ok()) return poison(s);
    segments_.erase(segments_.begin());
  }
  return absl::OkStatus();
}

absl::StatusOr<raft::Term> LogStore::term_at(raft::Index index) const {
  if (segments_.empty() || index.value() < segments_.front().first ||
      index.value() > segments_.back().last()) {
    return absl::OutOfRangeError(absl::StrCat("term_at: index ", index.value(), " outside the log [",
                                              first_index().value(), ", ", last_index().value(), "]"));
  }
  auto it = std::upper_bound(segments_.begin(), segments_.end(), index.value(),
                             [](uint64_t value, const Segment& s) { return value < s.first; });
  const Segment& segment = *std::prev(it);
  return raft::Term(segment.terms[index.value() - segment.first]);
}

absl::StatusOr<std::vector<raft::LogEntry>> LogStore::read(raft::Index from, raft::Index to) {
  // A failed removal may have left a segment without its file handle.
  if (!failed_.ok()) return failed_;
  std::vector<raft::LogEntry> out;
  if (from == to) return out;
  if (segments_.empty() || from > to || from.value() < segments_.front().first ||
      to.value() > segments_.back().last() + 1) {
    return absl::OutOfRangeError(absl::StrCat("read: range [", from.value(), ", ", to.value(),
                                              ") outside the log [", first_index().value(), ", ",
                                              last_index().value(), "]"));
  }
  const uint64_t max_body = options_.max_entry_bytes + kMaxBodyOverhead;
  out.reserve(to.value() - from.value());
  uint64_t index = from.value();
  auto it = std::prev(std::upper_bound(segments_.begin(), segments_.end(), index,
                                       [](uint64_t value, const Segment& s) { return value < s.first; }));
  for (; index < to.value(); ++it) {
    const Segment& segment = *it;
    const size_t a = index - segment.first;
    const size_t b = std::min<uint64_t>(to.value(), segment.last() + 1) - segment.first;  // exclusive
    const uint64_t begin = segment.offsets[a];
    const uint64_t end = segment.end_of(b - 1);
    absl::StatusOr<std::string> bytes = segment.file->read_at(begin, end - begin);
    if (!bytes.ok()) return bytes.status();
    if (bytes->size() != end - begin) {
      return absl::DataLossError(
          absl::StrCat(segment.path, ": offset ", begin, ": short read; index ", index, " affected"));
    }
    for (size_t k = a; k < b; ++k, ++index) {
      const uint64_t offset = segment.offsets[k];
      const absl::string_view record =
          absl::string_view(*bytes).substr(offset - begin, segment.end_of(k) - offset);
      auto damaged = [&](absl::string_view what) {
        return absl::DataLossError(absl::StrCat(segment.path, ": offset ", offset, ": ", what, "; index ",
                                                index, " affected (damaged since open)"));
      };
      if (record.size() < kRecordHeaderBytes) return damaged("record shorter than its header");
      if (std::string problem = version_problem(record); !problem.empty()) return damaged(problem);
      std::variant<uint64_t, std::string> length = check_header(record, record.size(), max_body);
      if (std::holds_alternative<std::string>(length)) return damaged(std::get<std::string>(length));
      if (kRecordHeaderBytes + std::get<uint64_t>(length) != record.size())
        return damaged("record length changed");
      const absl::string_view body = record.substr(kRecordHeaderBytes);
      if (checksum(body) != get_u64(record.data() + 5)) return damaged("record checksum mismatch");
      raft::LogEntry entry;
      Parsed parsed = decode_body(body, &entry);
      if (parsed.kind != Parsed::kValid) return damaged(parsed.reason);
      if (parsed.index != index || parsed.term != segment.terms[k])
        return damaged("record index or term changed");
      entry.index = raft::Index(parsed.index);
      entry.term = raft::Term(parsed.term);
      out.push_back(std::move(entry));
    }
  }
  return out;
}

}  // namespace reef::storage
