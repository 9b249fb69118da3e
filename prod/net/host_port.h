// "host:port" as written in transport options: a name or an IPv4 address,
// or an IPv6 address in brackets ("[::1]:7000").
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace reef::prod {

struct HostPort {
  std::string host;  // without brackets
  uint16_t port = 0;

  std::string to_string() const;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

absl::StatusOr<HostPort> parse_host_port(absl::string_view text);

}  // namespace reef::prod
