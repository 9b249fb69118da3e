// The throwing-assertion seam: this definition of reef::assertion_failed
// takes the place of the aborting one in raft/core/assert.cc (the linker never
// pulls assert.o from libreef_raft.a once the symbol is defined here). A
// failed REEF_ASSERT then throws std::logic_error instead of aborting, so
// what was running can report it with everything it knows:
//  - reef-sim: the failure unwinds to run_simulation(), which records it as
//    a violation with the seed and the rest of the run's report;
//  - the property suites (tests/raft, tests/storage): RapidCheck reports a
//    failing case and shrinks it to a minimal schedule or operation list.
//
// It is the OBJECT library reef_throwing_assertions (sim/CMakeLists.txt):
// its object goes straight onto the link line of each target that links it,
// ahead of every archive, so it wins over assert.o whatever the library
// order. Only those targets get it; production binaries, the fuzzers (where
// libFuzzer wants the crash) and every other suite keep the abort. The node
// code itself is unchanged.
#include <stdexcept>
#include <string>

#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"

namespace reef {

void assertion_failed(const char* condition, const char* file, int line, const std::string& details) {
  std::string what = absl::StrCat("ReefDB assertion failed: ", condition, " at ", file, ":", line,
                                  details.empty() ? "" : ": ", details);
  throw std::logic_error(std::move(what));
}

}  // namespace reef
