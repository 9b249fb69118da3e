// How the `reefdb` command line tools print what a node answered: result
// sets as aligned tables, write counts as one line, errors with their code.
// Pure functions over the rqlite JSON shapes (docs/HTTP_API.md), so they are
// tested without a node.
#pragma once

#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace reef::prod {

// A table with a header row, one line per row:
//   +----+-------+
//   | id | name  |
//   +----+-------+
//   | 1  | fiona |
//   +----+-------+
// Columns are as wide as their widest cell, counted in UTF-8 code points.
// Rows shorter than the header are padded with empty cells; extra cells are
// dropped. Ends with a newline.
std::string format_table(const std::vector<std::string>& columns, const std::vector<std::vector<std::string>>& rows);

// One JSON value as a table cell: strings unquoted, null as NULL, numbers
// and booleans as JSON writes them, arrays/objects as compact JSON. Control
// characters are escaped (\n, \t, \xNN) so a value never breaks the table.
std::string format_cell(const nlohmann::json& value);

// One entry of a "results" array, as the shell prints it (ending with a
// newline):
//   {"columns":[...],"values":[[...]]}          -> a table
//   {"rows_affected":n,"last_insert_id":m}      -> "n row(s) affected, last insert id m"
//   {"error":"...","code":"..."}                -> "error: ... (code)"
// Anything else is printed as compact JSON rather than dropped.
std::string format_result(const nlohmann::json& entry);

// A request-level error body {"error","code"} (or any other body) with the
// HTTP status, without "error: " and newline: "no such endpoint (not_found, HTTP 404)".
std::string describe_error_response(int status, const std::string& body);

// A request-level error body {"error","code"} (or any other body) with the
// HTTP status, as one line: "error: no such endpoint (not_found, HTTP 404)".
std::string format_error_response(int status, const std::string& body);

// A GET /nodes body ({"<id>": {"id","api_addr","addr","voter","leader"}})
// as a table ordered by node id.
std::string format_nodes(const nlohmann::json& nodes);

}  // namespace reef::prod
