#include "prod/config/server_config_values.h"

#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace reef::prod {
namespace {

// Longest DNS name; anything longer is a mistake, not a host.
constexpr size_t kMaxHostChars = 253;

absl::Status invalid(absl::string_view what, absl::string_view text) {
  return absl::InvalidArgumentError(absl::StrCat("expected ", what, ", got \"", absl::CEscape(text), "\""));
}

bool is_hostname_char(char c) { return absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_'; }
bool is_ipv6_char(char c) { return absl::ascii_isxdigit(c) || c == ':' || c == '.'; }

absl::Status check_host(absl::string_view host, bool bracketed, absl::string_view text) {
  if (host.empty()) return invalid("host:port with a host (use 0.0.0.0 for every interface)", text);
  if (host.size() > kMaxHostChars) return invalid("a host of at most 253 characters", text);
  for (char c : host) {
    if (bracketed ? !is_ipv6_char(c) : !is_hostname_char(c)) {
      if (!bracketed && c == ':') return invalid("host:port (an IPv6 literal needs brackets: [::1]:7001)", text);
      return invalid("host:port with a valid host name or IP literal", text);
    }
  }
  if (bracketed && host.find(':') == absl::string_view::npos) return invalid("an IPv6 literal inside brackets", text);
  return absl::OkStatus();
}

absl::StatusOr<PeerConfig> parse_peer(absl::string_view entry) {
  const size_t equals = entry.find('=');
  const size_t slash = entry.find('/');
  if (equals == absl::string_view::npos || slash == absl::string_view::npos || slash < equals) {
    return invalid("id=raft-host:port/http-host:port", entry);
  }
  absl::StatusOr<uint64_t> id = parse_unsigned(entry.substr(0, equals), std::numeric_limits<uint64_t>::max());
  if (!id.ok()) return absl::InvalidArgumentError(absl::StrCat("node id: ", id.status().message()));
  absl::StatusOr<Endpoint> raft = parse_endpoint(entry.substr(equals + 1, slash - equals - 1));
  if (!raft.ok()) return absl::InvalidArgumentError(absl::StrCat("raft address: ", raft.status().message()));
  absl::StatusOr<Endpoint> http = parse_endpoint(entry.substr(slash + 1));
  if (!http.ok()) return absl::InvalidArgumentError(absl::StrCat("http address: ", http.status().message()));
  return PeerConfig{raft::NodeId(*id), *std::move(raft), *std::move(http)};
}

}  // namespace

absl::StatusOr<uint64_t> parse_unsigned(absl::string_view text, uint64_t max) {
  if (text.empty() || text.size() > 20) return invalid("an unsigned integer", text);
  uint64_t value = 0;
  for (char c : text) {
    if (!absl::ascii_isdigit(c)) return invalid("an unsigned integer", text);
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) return invalid("an integer below 2^64", text);
    value = value * 10 + digit;
  }
  if (value > max) return absl::InvalidArgumentError(absl::StrCat("must be at most ", max, " (got ", value, ")"));
  return value;
}

absl::StatusOr<bool> parse_bool(absl::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return invalid("true or false", text);
}

absl::StatusOr<Endpoint> parse_endpoint(absl::string_view text) {
  absl::string_view host;
  absl::string_view rest;
  const bool bracketed = !text.empty() && text.front() == '[';
  if (bracketed) {
    const size_t close = text.find(']');
    if (close == absl::string_view::npos) return invalid("[ipv6]:port", text);
    host = text.substr(1, close - 1);
    rest = text.substr(close + 1);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == absl::string_view::npos) return invalid("host:port", text);
    host = text.substr(0, colon);
    rest = text.substr(colon);
  }
  if (rest.size() < 2 || rest.front() != ':') return invalid("host:port", text);
  if (absl::Status s = check_host(host, bracketed, text); !s.ok()) return s;
  absl::StatusOr<uint64_t> port = parse_unsigned(rest.substr(1), 65535);
  if (!port.ok() || *port == 0) return invalid("host:port with a port in 1..65535", text);
  return Endpoint{std::string(host), static_cast<uint16_t>(*port)};
}

absl::StatusOr<LogLevel> parse_log_level(absl::string_view text) {
  for (LogLevel level : {LogLevel::kTrace, LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError,
                         LogLevel::kOff}) {
    if (text == log_level_name(level)) return level;
  }
  return invalid("one of trace, debug, info, warn, error, off", text);
}

absl::StatusOr<std::vector<PeerConfig>> parse_peer_list(absl::string_view text) {
  std::vector<PeerConfig> peers;
  int position = 0;
  for (absl::string_view entry : absl::StrSplit(text, ',')) {
    ++position;
    absl::StatusOr<PeerConfig> peer = parse_peer(absl::StripAsciiWhitespace(entry));
    if (!peer.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("entry ", position, ": ", peer.status().message()));
    }
    peers.push_back(*std::move(peer));
  }
  return peers;
}

std::string format_peer(const PeerConfig& peer) {
  return absl::StrCat(peer.id.value(), "=", peer.raft_address.to_string(), "/", peer.http_address.to_string());
}

std::string format_peer_list(const std::vector<PeerConfig>& peers) {
  return absl::StrJoin(peers, ",", [](std::string* out, const PeerConfig& p) { out->append(format_peer(p)); });
}

absl::Status parse_value(absl::string_view text, std::string& field) {
  field = std::string(text);
  return absl::OkStatus();
}

absl::Status parse_value(absl::string_view text, uint64_t& field) {
  absl::StatusOr<uint64_t> value = parse_unsigned(text, std::numeric_limits<uint64_t>::max());
  if (!value.ok()) return value.status();
  field = *value;
  return absl::OkStatus();
}

absl::Status parse_value(absl::string_view text, uint32_t& field) {
  absl::StatusOr<uint64_t> value = parse_unsigned(text, std::numeric_limits<uint32_t>::max());
  if (!value.ok()) return value.status();
  field = static_cast<uint32_t>(*value);
  return absl::OkStatus();
}

absl::Status parse_value(absl::string_view text, bool& field) {
  absl::StatusOr<bool> value = parse_bool(text);
  if (!value.ok()) return value.status();
  field = *value;
  return absl::OkStatus();
}

absl::Status parse_value(absl::string_view text, std::optional<Endpoint>& field) {
  absl::StatusOr<Endpoint> value = parse_endpoint(text);
  if (!value.ok()) return value.status();
  field = *std::move(value);
  return absl::OkStatus();
}

absl::Status parse_value(absl::string_view text, LogLevel& field) {
  absl::StatusOr<LogLevel> value = parse_log_level(text);
  if (!value.ok()) return value.status();
  field = *value;
  return absl::OkStatus();
}

absl::Status parse_value(absl::string_view text, std::vector<PeerConfig>& field) {
  absl::StatusOr<std::vector<PeerConfig>> value = parse_peer_list(text);
  if (!value.ok()) return value.status();
  field = *std::move(value);
  return absl::OkStatus();
}

std::string format_value(const std::string& field) { return field; }
std::string format_value(uint64_t field) { return absl::StrCat(field); }
std::string format_value(uint32_t field) { return absl::StrCat(field); }
std::string format_value(bool field) { return field ? "true" : "false"; }
std::string format_value(const std::optional<Endpoint>& field) { return field ? field->to_string() : ""; }
std::string format_value(LogLevel field) { return std::string(log_level_name(field)); }
std::string format_value(const std::vector<PeerConfig>& field) { return format_peer_list(field); }

}  // namespace reef::prod
