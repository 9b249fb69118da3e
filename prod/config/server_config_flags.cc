// The command-line source: --<key with - for . and _>, e.g. --raft-tick-ms.
// A small parser of our own: no flag library, because the flags are the
// settings table and must behave exactly like the other sources.
#include <variant>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "prod/config/server_config_settings.h"
#include "prod/config/server_config_sources.h"

namespace reef::prod {
namespace {

bool is_flag(absl::string_view arg) { return absl::StartsWith(arg, "--"); }

bool is_bool_flag(absl::string_view name) {
  const Setting* setting = find_setting_by_flag(name);
  return setting != nullptr && std::holds_alternative<FieldAccess<bool>>(setting->field);
}

std::vector<std::string> known_flags() {
  std::vector<std::string> flags = {absl::StrCat("--", kConfigFileFlag), "--help"};
  for (const Setting& setting : all_settings()) flags.push_back(absl::StrCat("--", flag_name(setting)));
  return flags;
}

absl::Status unknown_flag(absl::string_view arg) {
  return absl::InvalidArgumentError(
      absl::StrCat("flag ", arg, ": unknown flag", did_you_mean(arg, known_flags()), "; see --help"));
}

}  // namespace

absl::StatusOr<CommandLine> parse_command_line(const std::vector<std::string>& args) {
  CommandLine line;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      line.help = true;
      continue;
    }
    if (!is_flag(arg) || arg.size() == 2) {
      return absl::InvalidArgumentError(absl::StrCat("argument \"", arg,
                                                     "\": expected --setting=value or --setting value; see --help"));
    }
    const size_t equals = arg.find('=');
    const std::string name = arg.substr(2, equals == std::string::npos ? std::string::npos : equals - 2);
    if (name != kConfigFileFlag && find_setting_by_flag(name) == nullptr) {
      return unknown_flag(absl::StrCat("--", name));
    }
    std::string value;
    if (equals != std::string::npos) {
      value = arg.substr(equals + 1);
    } else if (is_bool_flag(name) && (i + 1 == args.size() || is_flag(args[i + 1]))) {
      value = "true";
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat("flag --", name, ": needs a value"));
    }
    if (name == kConfigFileFlag) {
      line.config_path = std::move(value);
    } else {
      line.settings.emplace_back(name, std::move(value));
    }
  }
  return line;
}

absl::Status apply_flags(ServerConfig& config, const CommandLine& line) {
  ProblemList problems;
  for (const auto& [name, value] : line.settings) {
    const Setting* setting = find_setting_by_flag(name);
    if (setting == nullptr) {
      problems.add(unknown_flag(absl::StrCat("--", name)));
      continue;
    }
    problems.add(apply_setting(*setting, value, absl::StrCat("flag --", name), config));
  }
  return problems.status();
}

std::string command_line_usage() {
  const ServerConfig defaults;
  std::string usage =
      "usage: reefdb serve [--config <file.yaml>] [--<setting> <value>]...\n"
      "\n"
      "Precedence: defaults < YAML file < REEFDB_* environment < flags.\n"
      "Each flag below is also the YAML key (- read as _ and .) and the\n"
      "variable REEFDB_<KEY>; see docs/CONFIGURATION.md.\n"
      "\n";
  absl::StrAppendFormat(&usage, "  --%-33s %s\n", "config <path>", "YAML configuration file (env REEFDB_CONFIG)");
  for (const Setting& setting : all_settings()) {
    const std::string default_value = format_setting(setting, defaults);
    absl::StrAppendFormat(&usage, "  --%-33s %s%s\n", flag_name(setting), setting.help,
                          default_value.empty() ? "" : absl::StrCat(" [", default_value, "]"));
  }
  return usage;
}

}  // namespace reef::prod
