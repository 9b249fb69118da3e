#include "prod/api/http_time_value.h"

#include <cstdint>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace reef::prod::http {
namespace {

// go-sqlite3 reads an integer of larger magnitude as Unix milliseconds: in
// seconds it would be more than 31,000 years from 1970.
constexpr int64_t kMillisecondsAbove = 1'000'000'000'000;

// What Go shows for a time it could not parse (time.Time{}).
constexpr char kZeroTime[] = "0001-01-01T00:00:00Z";

// A time as written: wall clock plus the UTC offset it was written in.
struct WallTime {
  absl::CivilSecond civil;
  int32_t nanos = 0;
  int32_t offset_minutes = 0;  // east of UTC
};

// Reads the fields of SQLite's time formats as Go's time.Parse does: fixed
// digit counts (a one-digit hour allowed), nothing left over.
class TimeTextReader {
 public:
  explicit TimeTextReader(std::string_view text) : text_(text) {}

  bool at_end() const { return pos_ == text_.size(); }
  bool next_is(char c) const { return pos_ < text_.size() && text_[pos_] == c; }

  bool skip(char c) {
    if (!next_is(c)) return false;
    ++pos_;
    return true;
  }

  std::optional<int> digits(size_t count) {
    int value = 0;
    for (size_t i = 0; i < count; ++i) {
      if (!next_is_digit()) return std::nullopt;
      value = value * 10 + (text_[pos_++] - '0');
    }
    return value;
  }

  std::optional<int> hour() {
    std::optional<int> first = digits(1);
    if (!first || !next_is_digit()) return first;
    return *first * 10 + (text_[pos_++] - '0');
  }

  // After '.' or ',': one digit or more; digits past the ninth are dropped.
  std::optional<int32_t> fraction_nanos() {
    ++pos_;  // the separator
    if (!next_is_digit()) return std::nullopt;
    int32_t nanos = 0;
    int32_t scale = 100'000'000;
    while (next_is_digit()) {
      nanos += (text_[pos_++] - '0') * scale;
      scale /= 10;
    }
    return nanos;
  }

  // "+hh:mm" or "-hh:mm", in minutes east of UTC.
  std::optional<int32_t> offset_minutes() {
    const bool west = next_is('-');
    if (!skip('+') && !skip('-')) return std::nullopt;
    std::optional<int> hours = digits(2);
    if (!hours || !skip(':')) return std::nullopt;
    std::optional<int> minutes = digits(2);
    if (!minutes || *hours > 23 || *minutes > 59) return std::nullopt;
    const int32_t offset = *hours * 60 + *minutes;
    return west ? -offset : offset;
  }

 private:
  bool next_is_digit() const { return pos_ < text_.size() && absl::ascii_isdigit(text_[pos_]); }

  std::string_view text_;
  size_t pos_ = 0;
};

bool valid_date(int year, int month, int day) {
  if (month < 1 || month > 12 || day < 1) return false;
  const absl::CivilDay date(year, month, day);  // normalises 02-30 to 03-01 or 03-02
  return date.month() == month && date.day() == day;
}

// go-sqlite3's formats, tried in turn, come down to
//   YYYY-MM-DD [(' '|'T') H[H]:MM [:SS [(.|,)digits] [(+|-)hh:mm]]]
// after one trailing 'Z' is dropped.
std::optional<WallTime> parse_time_text(std::string_view text) {
  if (text.ends_with('Z')) text.remove_suffix(1);
  TimeTextReader in(text);
  const std::optional<int> year = in.digits(4);
  if (!year || !in.skip('-')) return std::nullopt;
  const std::optional<int> month = in.digits(2);
  if (!month || !in.skip('-')) return std::nullopt;
  const std::optional<int> day = in.digits(2);
  if (!day || !valid_date(*year, *month, *day)) return std::nullopt;
  WallTime time;
  int hour = 0, minute = 0, second = 0;
  if (!in.at_end()) {
    if (!in.skip(' ') && !in.skip('T')) return std::nullopt;
    const std::optional<int> h = in.hour();
    if (!h || !in.skip(':')) return std::nullopt;
    const std::optional<int> m = in.digits(2);
    if (!m) return std::nullopt;
    hour = *h;
    minute = *m;
    if (!in.at_end()) {
      if (!in.skip(':')) return std::nullopt;
      const std::optional<int> s = in.digits(2);
      if (!s) return std::nullopt;
      second = *s;
      if (in.next_is('.') || in.next_is(',')) {
        const std::optional<int32_t> nanos = in.fraction_nanos();
        if (!nanos) return std::nullopt;
        time.nanos = *nanos;
      }
      if (!in.at_end()) {
        const std::optional<int32_t> offset = in.offset_minutes();
        if (!offset) return std::nullopt;
        time.offset_minutes = *offset;
      }
    }
  }
  if (!in.at_end() || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  time.civil = absl::CivilSecond(*year, *month, *day, hour, minute, second);
  return time;
}

std::optional<WallTime> unix_time(int64_t value) {
  int64_t seconds = value;
  int32_t nanos = 0;
  if (value > kMillisecondsAbove || value < -kMillisecondsAbove) {
    seconds = value / 1000;
    int64_t milliseconds = value % 1000;
    if (milliseconds < 0) {  // floor, as time.Unix normalises it
      milliseconds += 1000;
      --seconds;
    }
    nanos = static_cast<int32_t>(milliseconds) * 1'000'000;
  }
  WallTime time;
  time.civil = absl::ToCivilSecond(absl::FromUnixSeconds(seconds), absl::UTCTimeZone());
  time.nanos = nanos;
  if (time.civil.year() < 0 || time.civil.year() > 9999) return std::nullopt;
  return time;
}

// Go's time.Time.MarshalText (RFC 3339 with nanoseconds): trailing zeros of
// the fraction dropped, "Z" for UTC.
std::string rfc3339(const WallTime& time) {
  const absl::CivilSecond& c = time.civil;
  std::string out = absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d", c.year(), c.month(), c.day(), c.hour(),
                                    c.minute(), c.second());
  if (time.nanos != 0) {
    std::string fraction = absl::StrFormat("%09d", time.nanos);
    fraction.erase(fraction.find_last_not_of('0') + 1);
    absl::StrAppend(&out, ".", fraction);
  }
  if (time.offset_minutes == 0) {
    out += 'Z';
  } else {
    const int32_t offset = std::abs(time.offset_minutes);
    absl::StrAppendFormat(&out, "%c%02d:%02d", time.offset_minutes < 0 ? '-' : '+', offset / 60, offset % 60);
  }
  return out;
}

}  // namespace

bool is_time_column(std::string_view declared_type) {
  const std::string type =
      absl::AsciiStrToLower(absl::string_view(declared_type.data(), declared_type.size()));
  return type == "date" || type == "datetime" || type == "timestamp";
}

std::optional<std::string> time_column_text(const statemachine::Value& value) {
  if (const auto* text = std::get_if<std::string>(&value)) {
    const std::optional<WallTime> time = parse_time_text(*text);
    return time ? rfc3339(*time) : std::string(kZeroTime);
  }
  if (const auto* integer = std::get_if<int64_t>(&value)) {
    const std::optional<WallTime> time = unix_time(*integer);
    if (time) return rfc3339(*time);
  }
  return std::nullopt;
}

}  // namespace reef::prod::http
