#include "storage/small_record_file.h"

#include "absl/strings/str_cat.h"
#include "encoding/checksummed_record.h"
#include "encoding/little_endian.h"
#include "raft/core/assert.h"

namespace reef::storage {
namespace {

constexpr uint64_t kHeaderBytes = 12;
constexpr uint64_t kSealBytes = static_cast<uint64_t>(encoding::SealWidth::k64);

absl::Status damaged(const std::string& path, const SmallRecordKind& kind, absl::string_view problem) {
  return absl::DataLossError(absl::StrCat(path, ": damaged ", kind.what, " file: ", problem));
}

}  // namespace

std::string encode_small_record(const SmallRecordKind& kind, absl::string_view body) {
  REEF_ASSERT(body.size() <= kMaxSmallRecordBodyBytes, "small record body too large");
  std::string bytes(kHeaderBytes + body.size() + kSealBytes, '\0');
  char* p = bytes.data();
  encoding::put_u32(p, kind.magic);
  encoding::put_u16(p + 4, kind.version);
  encoding::put_u32(p + 8, static_cast<uint32_t>(body.size()));
  bytes.replace(kHeaderBytes, body.size(), body.data(), body.size());
  encoding::seal(p, kHeaderBytes + body.size());
  return bytes;
}

absl::StatusOr<std::optional<std::string>> read_small_record(FileSystem& fs, const std::string& path,
                                                             const SmallRecordKind& kind) {
  absl::StatusOr<std::unique_ptr<File>> file = fs.open(path, OpenMode::kExisting);
  if (absl::IsNotFound(file.status())) return std::optional<std::string>();
  if (!file.ok()) return file.status();
  absl::StatusOr<uint64_t> size = (*file)->size();
  if (!size.ok()) return size.status();
  if (*size < kHeaderBytes + kSealBytes || *size > kHeaderBytes + kMaxSmallRecordBodyBytes + kSealBytes) {
    return damaged(path, kind, absl::StrCat("size ", *size, " bytes is out of range"));
  }
  absl::StatusOr<std::string> bytes = (*file)->read_at(0, *size);
  if (!bytes.ok()) return bytes.status();
  if (bytes->size() != *size) return damaged(path, kind, "shorter than its size");
  const char* p = bytes->data();
  if (encoding::get_u32(p) != kind.magic) return damaged(path, kind, "bad magic");
  const uint64_t body_len = encoding::get_u32(p + 8);
  if (kHeaderBytes + body_len + kSealBytes != *size) {
    return damaged(path, kind, absl::StrCat("body length ", body_len, " does not match the file size ", *size));
  }
  if (!encoding::seal_matches(p, kHeaderBytes + body_len)) return damaged(path, kind, "checksum mismatch");
  const uint16_t version = encoding::get_u16(p + 4);
  if (version != kind.version) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": ", kind.what, " format version ", version,
                                                      "; this build reads version ", kind.version));
  }
  return std::optional<std::string>(bytes->substr(kHeaderBytes, body_len));
}

absl::Status write_small_record(FileSystem& fs, const std::string& path, const SmallRecordKind& kind,
                                absl::string_view body) {
  const std::string temp = absl::StrCat(path, ".tmp");
  absl::StatusOr<std::unique_ptr<File>> file = fs.open(temp, OpenMode::kCreate);
  if (!file.ok()) return file.status();
  // kCreate keeps an old temp's bytes: cut them first.
  if (absl::Status s = (*file)->truncate(0); !s.ok()) return s;
  if (absl::Status s = (*file)->write_at(0, encode_small_record(kind, body)); !s.ok()) return s;
  if (absl::Status s = (*file)->sync(); !s.ok()) return s;
  if (absl::Status s = fs.rename(temp, path); !s.ok()) return s;
  return fs.sync_dir(parent_dir(path));
}

}  // namespace reef::storage
