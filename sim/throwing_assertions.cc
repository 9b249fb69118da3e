// Link seam for reef-sim: this definition of reef::assertion_failed takes the
// place of the aborting one in raft/assert.cc (the linker never pulls
// assert.o from libreef_raft.a once the symbol is defined here). A failed
// REEF_ASSERT anywhere in a simulated run then unwinds to run_simulation(),
// which records it as a violation with the seed and the rest of the report,
// instead of an abort that loses all of it.
//
// Only the reef-sim executable lists this file. The node code it simulates is
// unchanged; production binaries, the fuzzers and the other tests keep the
// abort, where stopping at once is the point.
#include <stdexcept>
#include <string>

#include "absl/strings/str_cat.h"
#include "raft/assert.h"

namespace reef {

void assertion_failed(const char* condition, const char* file, int line, const std::string& details) {
  std::string what = absl::StrCat("ReefDB assertion failed: ", condition, " at ", file, ":", line,
                                  details.empty() ? "" : ": ", details);
  throw std::logic_error(std::move(what));
}

}  // namespace reef
