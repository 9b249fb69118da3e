// PosixFileSystem implementation: thin loops around the system calls. The
// loops exist because a signal (EINTR) or a short transfer is not an error,
// and treating either as one would turn a healthy disk into a failed node.
#include "prod/disk/posix_file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"

namespace reef::prod {
namespace {

using storage::File;
using storage::OpenMode;

// The largest offset pwrite/ftruncate accept; anything past it must be refused
// before it is converted to a (negative) off_t.
constexpr uint64_t kMaxOffset = static_cast<uint64_t>(std::numeric_limits<off_t>::max());

absl::StatusCode code_for_errno(int err) {
  switch (err) {
    case ENOENT: return absl::StatusCode::kNotFound;
    case EEXIST: return absl::StatusCode::kAlreadyExists;
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
    case ENOMEM: return absl::StatusCode::kResourceExhausted;
    case EFBIG:
    case EOVERFLOW: return absl::StatusCode::kOutOfRange;
    case EISDIR:
    case ENOTDIR:
    case ENOTEMPTY:
    case EXDEV:
    case EBUSY:
    case ETXTBSY: return absl::StatusCode::kFailedPrecondition;
    case EACCES:
    case EPERM:
    case EROFS: return absl::StatusCode::kPermissionDenied;
    case EINVAL:
    case ENAMETOOLONG:
    case ELOOP:
    case EBADF: return absl::StatusCode::kInvalidArgument;
    case EIO:
    case EAGAIN:
    case EINTR: return absl::StatusCode::kUnavailable;
    default: return absl::StatusCode::kInternal;
  }
}

// Retries a system call interrupted by a signal. Bounded in practice: EINTR
// needs a signal per retry.
template <typename Call>
auto retry_eintr(Call call) {
  for (;;) {
    const auto result = call();
    if (result != -1 || errno != EINTR) return result;
  }
}

absl::StatusOr<uint64_t> file_size(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return errno_status(errno, "fstat", path);
  REEF_ASSERT(st.st_size >= 0, path, " size=", st.st_size);
  return static_cast<uint64_t>(st.st_size);
}

// Owns one descriptor opened O_RDWR. Not thread-safe (see the header).
class PosixFile final : public File {
 public:
  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) { REEF_ASSERT(fd_ >= 0, path_); }
  PosixFile(const PosixFile&) = delete;
  PosixFile& operator=(const PosixFile&) = delete;

  // A close error cannot lose data that sync() reported durable, and data
  // never synced carries no promise, so there is nothing useful to report.
  ~PosixFile() override { ::close(fd_); }

  absl::Status append(absl::string_view data) override {
    absl::StatusOr<uint64_t> end = file_size(fd_, path_);
    if (!end.ok()) return end.status();
    return write_at(*end, data);
  }

  absl::Status write_at(uint64_t offset, absl::string_view data) override {
    if (offset > kMaxOffset - data.size()) {
      return absl::OutOfRangeError(absl::StrCat("write ", path_, ": offset ", offset, " + ", data.size(),
                                                " bytes is past the largest file offset"));
    }
    // Bounded: every iteration writes at least one byte or returns.
    while (!data.empty()) {
      const ssize_t n =
          retry_eintr([&] { return ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset)); });
      if (n < 0) return errno_status(errno, "write", path_);
      if (n == 0) return absl::InternalError(absl::StrCat("write ", path_, ": pwrite wrote 0 bytes"));
      REEF_ASSERT(static_cast<size_t>(n) <= data.size(), path_, " n=", n);
      data.remove_prefix(static_cast<size_t>(n));
      offset += static_cast<uint64_t>(n);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> read_at(uint64_t offset, uint64_t length) override {
    absl::StatusOr<uint64_t> size = file_size(fd_, path_);
    if (!size.ok()) return size.status();
    if (length == 0 || offset >= *size) return std::string();
    // Sized by the file, not by `length`, so a huge request cannot allocate
    // more than the file holds.
    std::string out(std::min(length, *size - offset), '\0');
    size_t got = 0;
    while (got < out.size()) {
      const ssize_t n = retry_eintr(
          [&] { return ::pread(fd_, out.data() + got, out.size() - got, static_cast<off_t>(offset + got)); });
      if (n < 0) return errno_status(errno, "read", path_);
      if (n == 0) break;  // the file shrank since fstat: end of file
      got += static_cast<size_t>(n);
    }
    out.resize(got);
    return out;
  }

  absl::Status sync() override {
    if (retry_eintr([&] { return ::fdatasync(fd_); }) != 0) return errno_status(errno, "fdatasync", path_);
    return absl::OkStatus();
  }

  absl::Status truncate(uint64_t size) override {
    if (size > kMaxOffset) {
      return absl::OutOfRangeError(
          absl::StrCat("truncate ", path_, ": size ", size, " is past the largest file offset"));
    }
    if (retry_eintr([&] { return ::ftruncate(fd_, static_cast<off_t>(size)); }) != 0) {
      return errno_status(errno, "truncate", path_);
    }
    return absl::OkStatus();
  }

  absl::Status allocate(uint64_t size) override {
    if (size > kMaxOffset) {
      return absl::OutOfRangeError(
          absl::StrCat("allocate ", path_, ": size ", size, " is past the largest file offset"));
    }
    // Returns the error number instead of setting errno. Where the file
    // system cannot reserve space (EOPNOTSUPP), glibc writes zeros instead.
    int error = 0;
    do {
      error = ::posix_fallocate(fd_, 0, static_cast<off_t>(size));
    } while (error == EINTR);  // bounded in practice: EINTR needs a signal per retry
    if (error != 0) return errno_status(error, "fallocate", path_);
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> size() override { return file_size(fd_, path_); }

  const std::string& path() const override { return path_; }

 private:
  const int fd_;
  const std::string path_;
};

// Closes a descriptor when it goes out of scope, on every return path.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  int fd_;
};

absl::Status with_context(const absl::Status& status, absl::string_view operation, absl::string_view path) {
  return absl::Status(status.code(), absl::StrCat(operation, " ", path, ": ", status.message()));
}

// validate_path's message already names the path (escaped); only the
// operation is added, so a NUL byte never reaches a log line.
absl::Status check_path(absl::string_view operation, absl::string_view path) {
  absl::Status s = storage::validate_path(path);
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(operation, " ", s.message()));
}

}  // namespace

absl::Status errno_status(int err, absl::string_view operation, absl::string_view path) {
  return absl::Status(
      code_for_errno(err),
      absl::StrCat(operation, " ", path, ": ", std::generic_category().message(err), " (errno ", err, ")"));
}

absl::StatusOr<std::unique_ptr<File>> PosixFileSystem::open(const std::string& path, OpenMode mode) {
  if (absl::Status s = check_path("open", path); !s.ok()) return s;
  int flags = O_RDWR | O_CLOEXEC;
  switch (mode) {
    case OpenMode::kExisting: break;
    case OpenMode::kCreate: flags |= O_CREAT; break;
    case OpenMode::kCreateNew: flags |= O_CREAT | O_EXCL; break;
  }
  const int fd = retry_eintr([&] { return ::open(path.c_str(), flags, 0644); });
  if (fd < 0) return errno_status(errno, "open", path);
  auto file = std::make_unique<PosixFile>(fd, path);
  // A FIFO or device opens fine with O_RDWR but is no place for a log.
  struct stat st {};
  if (::fstat(fd, &st) != 0) return errno_status(errno, "fstat", path);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat("open ", path, ": not a regular file"));
  }
  return std::unique_ptr<File>(std::move(file));
}

absl::Status PosixFileSystem::remove(const std::string& path) {
  if (absl::Status s = check_path("remove", path); !s.ok()) return s;
  if (::unlink(path.c_str()) != 0) return errno_status(errno, "remove", path);
  return absl::OkStatus();
}

absl::Status PosixFileSystem::rename(const std::string& from, const std::string& to) {
  const std::string both = absl::StrCat(from, " -> ", to);
  if (absl::Status s = check_path("rename", from); !s.ok()) return s;
  if (absl::Status s = check_path("rename", to); !s.ok()) return s;
  if (::rename(from.c_str(), to.c_str()) != 0) return errno_status(errno, "rename", both);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> PosixFileSystem::list(const std::string& dir) {
  if (absl::Status s = check_path("list", dir); !s.ok()) return s;
  const int fd = retry_eintr([&] { return ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  if (fd < 0) return errno_status(errno, "list", dir);
  DIR* stream = ::fdopendir(fd);
  if (stream == nullptr) {
    const int err = errno;
    ::close(fd);
    return errno_status(err, "list", dir);
  }
  std::vector<std::string> names;
  absl::Status status;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(stream);
    if (entry == nullptr) {
      if (errno != 0) status = errno_status(errno, "list", dir);
      break;
    }
    const absl::string_view name(entry->d_name);
    if (name == "." || name == "..") continue;
    bool regular = entry->d_type == DT_REG;
    // Some file systems do not fill d_type; ask the inode. Symlinks are not
    // followed: the storage layer never makes them, so one is not its file.
    if (entry->d_type == DT_UNKNOWN) {
      struct stat st {};
      regular =
          ::fstatat(::dirfd(stream), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
    }
    if (regular) names.emplace_back(name);
  }
  ::closedir(stream);  // also closes fd
  if (!status.ok()) return status;
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status PosixFileSystem::sync_dir(const std::string& dir) {
  if (absl::Status s = check_path("sync_dir", dir); !s.ok()) return s;
  const int fd = retry_eintr([&] { return ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  if (fd < 0) return errno_status(errno, "sync_dir", dir);
  FdCloser closer(fd);
  if (retry_eintr([&] { return ::fsync(fd); }) != 0) return errno_status(errno, "sync_dir", dir);
  return absl::OkStatus();
}

absl::Status PosixFileSystem::create_dir(const std::string& dir) {
  if (absl::Status s = check_path("create_dir", dir); !s.ok()) return s;
  // Walk "a", "a/b", "a/b/c": one step per component, so the loop is bounded
  // by the length of the path.
  size_t pos = dir.find_first_not_of('/');
  while (pos != std::string::npos) {
    const size_t slash = dir.find('/', pos);
    const std::string prefix = dir.substr(0, slash);
    pos = slash == std::string::npos ? slash : dir.find_first_not_of('/', slash);
    if (::mkdir(prefix.c_str(), 0755) == 0) {
      // A new directory is durable only once its parent is synced.
      if (absl::Status s = sync_dir(storage::parent_dir(prefix)); !s.ok()) {
        return with_context(s, "create_dir", dir);
      }
      continue;
    }
    const int err = errno;
    if (err != EEXIST) return with_context(errno_status(err, "mkdir", prefix), "create_dir", dir);
    struct stat st {};
    if (::stat(prefix.c_str(), &st) != 0) {
      return with_context(errno_status(errno, "stat", prefix), "create_dir", dir);
    }
    if (!S_ISDIR(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat("create_dir ", dir, ": ", prefix, " exists and is not a directory"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> PosixFileSystem::exists(const std::string& path) {
  if (absl::Status s = check_path("exists", path); !s.ok()) return s;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  return errno_status(errno, "exists", path);
}

}  // namespace reef::prod
