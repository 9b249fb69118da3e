// Link seam for the property suites: this definition of
// reef::assertion_failed takes the place of the aborting one in
// raft/assert.cc (the linker never pulls assert.o from libreef_raft.a once
// the symbol is defined here). A broken core invariant then surfaces as an
// exception, which RapidCheck reports as a failing case and shrinks to a
// minimal schedule, instead of an abort that loses the schedule.
//
// Only test binaries that list this file get it; production code, the fuzzers
// (where libFuzzer wants the crash) and every other suite keep the abort.
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
