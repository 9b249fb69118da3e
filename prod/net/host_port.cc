#include "prod/net/host_port.h"

#include "absl/strings/str_cat.h"

namespace reef::prod {

std::string HostPort::to_string() const {
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<HostPort> parse_host_port(absl::string_view text) {
  auto bad = [text](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("address \"", text, "\": ", why, " (expected host:port)"));
  };
  const size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos) return bad("no port");
  absl::string_view host = text.substr(0, colon);
  const absl::string_view port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != absl::string_view::npos) {
    return bad("IPv6 addresses go in brackets");
  }
  if (host.empty()) return bad("empty host");
  if (port.empty() || port.size() > 5) return bad("port is not a number from 0 to 65535");
  uint32_t value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return bad("port is not a number from 0 to 65535");
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value > 65535) return bad("port is not a number from 0 to 65535");
  return HostPort{std::string(host), static_cast<uint16_t>(value)};
}

}  // namespace reef::prod
