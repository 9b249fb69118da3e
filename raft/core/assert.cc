#include "raft/core/assert.h"

#include <cstdio>
#include <cstdlib>

namespace reef {

// Writing to stderr and aborting is the one side effect raft/ allows itself:
// the process is going down and the message is the only record of why.
void assertion_failed(const char* condition, const char* file, int line,
                      const std::string& details) {
  std::fprintf(stderr, "ReefDB assertion failed: %s at %s:%d%s%s\n", condition, file, line,
               details.empty() ? "" : ": ", details.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace reef
