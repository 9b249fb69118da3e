// Result cells and column types as rqlite writes them: INTEGER as a JSON
// integer, REAL as a JSON number (infinities, which JSON cannot hold, as
// null), TEXT as a string (invalid UTF-8 replaced by U+FFFD when the
// response is written, as Go does), BLOB as a base64 string (Go's encoding
// of []byte) or, with `blob_array`, an array of byte values, NULL as null.
// Values of DATE, DATETIME and TIMESTAMP columns as RFC 3339 strings
// (http_time_value.h).
#pragma once

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "statemachine/batch_response.h"
#include "statemachine/value.h"

namespace reef::prod::http {

// Insertion-ordered, so responses keep rqlite's key order.
using Json = nlohmann::ordered_json;

Json value_json(const statemachine::Value& value, bool blob_array);

// One result cell: value_json(), except in a time column.
Json cell_json(const statemachine::Column& column, const statemachine::Value& value, bool blob_array);

// rqlite's "types": each column's declared type in lower case; for a column
// without one (an expression), the type of its value in the first row
// ("integer", "real", "text", "blob", "boolean"), or "" when that is NULL
// or there are no rows.
std::vector<std::string> column_types(const std::vector<statemachine::Column>& columns,
                                      const std::vector<statemachine::Row>& rows);

}  // namespace reef::prod::http
