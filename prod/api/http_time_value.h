// Values of DATE, DATETIME and TIMESTAMP columns, rendered as rqlite renders
// them, so that clients' timestamp converters (pyrqlite, the JavaScript
// client) work.
//
// rqlite's SQLite driver (go-sqlite3) turns every value of a column whose
// declared type is exactly "date", "datetime" or "timestamp" (any case; not
// "DATETIME(6)" or "TIMESTAMPTZ") into a Go time.Time, and rqlite writes it as
// RFC 3339 with up to nine fraction digits ("2024-05-06T07:08:09.5Z"):
//  - TEXT in one of the formats SQLite's date functions write or read
//    ("2024-05-06", "2024-05-06 07:08", "2024-05-06 07:08:09",
//    "2024-05-06T07:08:09.123", "2024-05-06 07:08:09+02:00"; a trailing "Z"
//    is ignored; a one-digit hour is accepted) becomes that time, in UTC or
//    in the offset it names;
//  - TEXT in no such format becomes Go's zero time, "0001-01-01T00:00:00Z"
//    (go-sqlite3's rule: the stored text is not lost, but this column
//    cannot show it);
//  - INTEGER is Unix time in seconds, or in milliseconds when its magnitude
//    is above 10^12, shown in UTC;
//  - REAL, BLOB and NULL are left alone.
// An INTEGER whose year falls outside 0000..9999, which RFC 3339 cannot
// write (rqlite fails the query), is left as the integer.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "statemachine/value.h"

namespace reef::prod::http {

// Whether rqlite renders the column's values as times.
bool is_time_column(std::string_view declared_type);

// The RFC 3339 text rqlite answers for `value` in a time column; nullopt
// when the value is shown as it is.
std::optional<std::string> time_column_text(const statemachine::Value& value);

}  // namespace reef::prod::http
