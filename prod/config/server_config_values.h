// Parsing and formatting of single setting values, in the text form that
// environment variables and flags use (YAML scalars go through the same
// parsers, so a value means the same thing from every source).
//
// The parsers are strict on purpose: a configuration typo must stop the
// server at startup rather than run it with a value nobody meant. Errors say
// what is wrong with the value only; callers prefix source and key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "prod/config/server_config.h"

namespace reef::prod {

// Decimal digits only: no sign, no spaces, no hex, at most `max`.
absl::StatusOr<uint64_t> parse_unsigned(absl::string_view text, uint64_t max);
// "true" or "false" (YAML 1.1's yes/no/on/off are refused as ambiguous).
absl::StatusOr<bool> parse_bool(absl::string_view text);
// "host:port" or "[ipv6]:port"; port 1..65535 (0 would pick a port nobody
// else can know). Hosts are names or literals; nothing is resolved here.
absl::StatusOr<Endpoint> parse_endpoint(absl::string_view text);
// trace, debug, info, warn, error, off.
absl::StatusOr<LogLevel> parse_log_level(absl::string_view text);
// The compact peer list "1=h1:7001/h1:8001,2=h2:7001/h2:8001": id, Raft
// address, HTTP address per member, comma-separated.
absl::StatusOr<std::vector<PeerConfig>> parse_peer_list(absl::string_view text);

std::string format_peer(const PeerConfig& peer);
std::string format_peer_list(const std::vector<PeerConfig>& peers);

// The one-setting parsers behind the settings table, one per field type:
// parse `text` into `field`.
absl::Status parse_value(absl::string_view text, std::string& field);
absl::Status parse_value(absl::string_view text, uint64_t& field);
absl::Status parse_value(absl::string_view text, uint32_t& field);
absl::Status parse_value(absl::string_view text, bool& field);
absl::Status parse_value(absl::string_view text, std::optional<Endpoint>& field);
absl::Status parse_value(absl::string_view text, LogLevel& field);
absl::Status parse_value(absl::string_view text, std::vector<PeerConfig>& field);

// The inverse of parse_value ("" for an unset optional).
std::string format_value(const std::string& field);
std::string format_value(uint64_t field);
std::string format_value(uint32_t field);
std::string format_value(bool field);
std::string format_value(const std::optional<Endpoint>& field);
std::string format_value(LogLevel field);
std::string format_value(const std::vector<PeerConfig>& field);

}  // namespace reef::prod
