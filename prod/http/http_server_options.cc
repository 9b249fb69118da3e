#include "prod/http/http_server_options.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "prod/net/host_port.h"

namespace reef::prod {
namespace {

// Smallest header limit that still fits an ordinary request line and a few
// fields; anything lower is a configuration mistake.
constexpr uint32_t kMinHeaderBytes = 1024;

bool has_control_characters(absl::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

absl::Status HttpServerOptions::validate() const {
  auto bad = [](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("HTTP server: ", what));
  };
  if (absl::Status address = parse_host_port(listen_address).status(); !address.ok()) {
    return bad(absl::StrCat("listen address: ", address.message()));
  }
  if (max_body_bytes == 0) return bad("max_body_bytes must be positive");
  if (max_header_bytes < kMinHeaderBytes)
    return bad(absl::StrCat("max_header_bytes must be at least ", kMinHeaderBytes));
  if (read_timeout.count() <= 0) return bad("read_timeout must be positive");
  if (write_timeout.count() <= 0) return bad("write_timeout must be positive");
  if (linger_timeout.count() < 0) return bad("linger_timeout must not be negative");
  if (max_connections == 0) return bad("max_connections must be positive");
  if (server_header.empty() || has_control_characters(server_header)) {
    return bad("server_header must be non-empty printable text");
  }
  return absl::OkStatus();
}

}  // namespace reef::prod
