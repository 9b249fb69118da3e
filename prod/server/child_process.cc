#include "prod/server/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace reef::prod {
namespace {

// What the child writes when it fails, built before fork: between fork and
// exec only async-signal-safe calls (no allocation, write() not printf).
struct FailureLines {
  std::string cannot_open_log;
  std::string cannot_exec;
};

void write_message(int fd, const std::string& message) {
  [[maybe_unused]] const ssize_t ignored = ::write(fd, message.data(), message.size());
}

[[noreturn]] void exec_child(const ChildProcess& child, const std::vector<char*>& argv,
                             const FailureLines& lines, pid_t parent) {
  sigset_t none;  // clean of the signal state the parent set up for itself (see the header)
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGTTIN, SIG_DFL);
  if (child.terminate_with_parent) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(kChildExitCannotExec);  // it died before prctl
  }
  if (child.own_process_group) setpgid(0, 0);
  const int input = child.stdin_fd >= 0 ? child.stdin_fd : ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (input >= 0) dup2(input, STDIN_FILENO);
  const int log = ::open(child.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    write_message(STDERR_FILENO, lines.cannot_open_log);
    _exit(kChildExitCannotOpenLog);
  }
  dup2(log, STDOUT_FILENO);
  dup2(log, STDERR_FILENO);
  execv(child.path.c_str(), argv.data());
  write_message(STDERR_FILENO, lines.cannot_exec);
  _exit(kChildExitCannotExec);
}

}  // namespace

absl::StatusOr<pid_t> spawn_child(const ChildProcess& child) {
  std::vector<std::string> args = child.argv;  // execv wants char*, not const char*
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const FailureLines lines{.cannot_open_log = absl::StrCat(child.name, ": cannot open its log ",
                                                           child.log_path, " for appending\n"),
                           .cannot_exec = absl::StrCat(child.name, ": cannot run ", child.path, "\n")};
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) exec_child(child, argv, lines, parent);
  return pid;
}

}  // namespace reef::prod
