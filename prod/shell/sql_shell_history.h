// The shell's history: every statement and dot command entered at a
// terminal, kept in memory (`.history` lists it) and appended to a file
// (~/.reefdb_history) so it survives the session. One entry per line: a
// statement typed over several lines is stored with its line breaks turned
// into spaces.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace reef::prod {

// $HOME/.reefdb_history; empty when HOME is not set.
std::string default_history_path();

class ShellHistory {
 public:
  // Entries kept in memory (the oldest go first); the file keeps growing,
  // only its last kMaxEntries lines are loaded.
  static constexpr size_t kMaxEntries = 1000;

  // An empty path keeps the history in memory only.
  explicit ShellHistory(std::string path);

  // Loads the file's last kMaxEntries lines. A missing file is no error.
  absl::Status load();
  // Adds `entry` in memory and appends it to the file. Blank entries and
  // repeats of the previous entry are skipped. The error (the file cannot be
  // written) leaves the in-memory history updated.
  absl::Status add(std::string_view entry);

  const std::deque<std::string>& entries() const { return entries_; }
  const std::string& path() const { return path_; }

 private:
  void remember(std::string entry);

  const std::string path_;
  std::deque<std::string> entries_;
};

}  // namespace reef::prod
