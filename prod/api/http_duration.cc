#include "prod/api/http_duration.h"

#include <cstddef>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"

namespace reef::prod::http {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Nanoseconds per unit, or 0 for an unknown unit.
int64_t unit_nanoseconds(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return 1'000;
  if (unit == "ms") return 1'000'000;
  if (unit == "s") return 1'000'000'000;
  if (unit == "m") return int64_t{60} * 1'000'000'000;
  if (unit == "h") return int64_t{3600} * 1'000'000'000;
  return 0;
}

absl::Status invalid(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid duration \"", std::string(text), "\": ", std::string(why)));
}

}  // namespace

absl::StatusOr<int64_t> parse_go_duration(std::string_view text) {
  std::string_view rest = text;
  if (!rest.empty() && rest.front() == '-') return invalid(text, "negative");
  if (!rest.empty() && rest.front() == '+') rest.remove_prefix(1);
  if (rest == "0") return 0;
  if (rest.empty()) return invalid(text, "empty");
  int64_t total = 0;
  while (!rest.empty()) {
    // Whole part, then an optional fraction; at least one digit overall.
    uint64_t whole = 0;
    size_t i = 0;
    bool overflow = false;
    for (; i < rest.size() && is_digit(rest[i]); ++i) {
      if (whole > (static_cast<uint64_t>(kMax) - 9) / 10) overflow = true;
      if (!overflow) whole = whole * 10 + static_cast<uint64_t>(rest[i] - '0');
    }
    const size_t whole_digits = i;
    uint64_t fraction = 0;
    uint64_t scale = 1;
    size_t fraction_digits = 0;
    if (i < rest.size() && rest[i] == '.') {
      for (++i; i < rest.size() && is_digit(rest[i]); ++i, ++fraction_digits) {
        if (scale > std::numeric_limits<uint64_t>::max() / 100)
          continue;  // beyond precision: ignored, as Go does
        fraction = fraction * 10 + static_cast<uint64_t>(rest[i] - '0');
        scale *= 10;
      }
    }
    if (whole_digits == 0 && fraction_digits == 0) return invalid(text, "expected a number");
    if (overflow) return invalid(text, "too large");
    size_t unit_end = i;
    while (unit_end < rest.size() && !is_digit(rest[unit_end]) && rest[unit_end] != '.') ++unit_end;
    const std::string_view unit = rest.substr(i, unit_end - i);
    if (unit.empty()) return invalid(text, "missing unit");
    const int64_t per_unit = unit_nanoseconds(unit);
    if (per_unit == 0) return invalid(text, absl::StrCat("unknown unit \"", std::string(unit), "\""));
    if (whole > static_cast<uint64_t>(kMax / per_unit)) return invalid(text, "too large");
    int64_t value = static_cast<int64_t>(whole) * per_unit;
    const long double part = static_cast<long double>(fraction) * static_cast<long double>(per_unit) /
                             static_cast<long double>(scale);
    const auto part_ns = static_cast<int64_t>(part);  // < per_unit: the fraction is below one unit
    if (value > kMax - part_ns) return invalid(text, "too large");
    value += part_ns;
    if (total > kMax - value) return invalid(text, "too large");
    total += value;
    rest.remove_prefix(unit_end);
  }
  return total;
}

}  // namespace reef::prod::http
