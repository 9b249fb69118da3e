#include "prod/server/wait_status.h"

#include <string.h>  // sigabbrev_np (glibc 2.32+)
#include <sys/wait.h>

#include "absl/strings/str_cat.h"

namespace reef::prod {
std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return absl::StrCat("was killed by ", signal_name(WTERMSIG(status)),
                        WCOREDUMP(status) ? " (core dumped)" : "");
  }
  return absl::StrCat("ended with wait status ", status);  // stopped/continued are never asked for
}

std::string signal_name(int signal) {
  const char* abbreviation = sigabbrev_np(signal);
  return abbreviation != nullptr ? absl::StrCat("SIG", abbreviation) : absl::StrCat("signal ", signal);
}

}  // namespace reef::prod
