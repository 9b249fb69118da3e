#include "storage/file_system.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace reef::storage {

std::string join_path(absl::string_view dir, absl::string_view name) {
  if (dir.empty() || dir == ".") return std::string(name);
  if (dir.back() == '/') return absl::StrCat(dir, name);
  return absl::StrCat(dir, "/", name);
}

// Trailing and doubled slashes are tolerated ("a//b/" -> "a") so a directory
// given with a trailing slash still has the parent a reader would expect.
std::string parent_dir(absl::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const size_t slash = path.find_last_of('/');
  if (slash == absl::string_view::npos) return ".";
  const size_t end = path.find_last_not_of('/', slash);
  if (end == absl::string_view::npos) return "/";
  return std::string(path.substr(0, end + 1));
}

absl::Status validate_path(absl::string_view path) {
  if (path.empty()) return absl::InvalidArgumentError("empty path");
  if (path.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        absl::StrReplaceAll(path, {{absl::string_view("\0", 1), "\\0"}}), ": path holds a NUL byte"));
  }
  return absl::OkStatus();
}

}  // namespace reef::storage
