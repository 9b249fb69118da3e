// Command-line flags of `reefdb sql` and `reefdb status`: "--name VALUE",
// "--name=VALUE", and "--help"/"-h". Nothing positional is accepted.
#pragma once

#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace reef::prod {

struct CliFlags {
  bool help = false;
  std::map<std::string, std::string, std::less<>> values;  // by name without "--"

  std::string value_or(std::string_view name, std::string fallback) const;
};

// INVALID_ARGUMENT naming the argument for an unknown flag, a flag without
// its value, a repeated flag or a positional argument.
absl::StatusOr<CliFlags> parse_cli_flags(const std::vector<std::string>& args,
                                         std::initializer_list<std::string_view> names);

}  // namespace reef::prod
