// Always-on assertions for ReefDB's own invariants.
//
// REEF_ASSERT is active in every build type, release included: a broken
// invariant in a replicated database is a bug that must stop the process
// before it writes or sends anything wrong. It is never used for input that
// comes from outside (messages, files, requests): those get an absl::Status.
//
//   REEF_ASSERT(commit <= last, "commit=", commit.value(), " last=", last.value());
//
// The trailing arguments are concatenated with absl::StrCat and printed with
// the condition, file and line.
#pragma once

#include <string>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/strings/str_cat.h"

namespace reef {

[[noreturn]] void assertion_failed(const char* condition, const char* file, int line,
                                   const std::string& details);

}  // namespace reef

#define REEF_ASSERT(condition, ...)                                                   \
  do {                                                                                \
    if (ABSL_PREDICT_FALSE(!(condition))) {                                           \
      ::reef::assertion_failed(#condition, __FILE__, __LINE__,                        \
                               ::absl::StrCat(__VA_ARGS__));                          \
    }                                                                                 \
  } while (false)

// For code paths that must never be reached (exhaustive dispatch).
#define REEF_UNREACHABLE(...) \
  ::reef::assertion_failed("unreachable", __FILE__, __LINE__, ::absl::StrCat(__VA_ARGS__))
