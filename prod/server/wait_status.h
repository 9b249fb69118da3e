// How a child process ended, in words: "exited with status 1", "was killed
// by SIGKILL". For people reading a dev cluster's output, who know signals
// by name rather than by number.
#pragma once

#include <string>

namespace reef::prod {

// `status`: as filled in by waitpid().
std::string describe_wait_status(int status);

// "SIGKILL"; "signal 99" for a number without a name.
std::string signal_name(int signal);

}  // namespace reef::prod
