#include "prod/shell/sql_shell_history.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace reef::prod {
namespace {

std::string one_line(std::string_view entry) {
  std::string line(absl::StripAsciiWhitespace(absl::string_view(entry.data(), entry.size())));
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return line;
}

}  // namespace

std::string default_history_path() {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') return "";
  return absl::StrCat(home, "/.reefdb_history");
}

ShellHistory::ShellHistory(std::string path) : path_(std::move(path)) {}

absl::Status ShellHistory::load() {
  if (path_.empty()) return absl::OkStatus();
  std::ifstream file(path_);
  if (!file) {
    if (errno == ENOENT) return absl::OkStatus();
    return absl::UnavailableError(absl::StrCat("cannot read history ", path_, ": ", std::strerror(errno)));
  }
  for (std::string line; std::getline(file, line);) {
    if (!line.empty()) remember(std::move(line));
  }
  return absl::OkStatus();
}

absl::Status ShellHistory::add(std::string_view entry) {
  std::string line = one_line(entry);
  if (line.empty() || (!entries_.empty() && entries_.back() == line)) return absl::OkStatus();
  remember(line);
  if (path_.empty()) return absl::OkStatus();
  std::ofstream file(path_, std::ios::app);
  if (file) file << line << '\n';
  if (!file) return absl::UnavailableError(absl::StrCat("cannot write history ", path_, ": ", std::strerror(errno)));
  return absl::OkStatus();
}

void ShellHistory::remember(std::string entry) {
  entries_.push_back(std::move(entry));
  while (entries_.size() > kMaxEntries) entries_.pop_front();
}

}  // namespace reef::prod
