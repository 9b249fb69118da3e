// rqlite names parameters without their prefix ({"name": "fiona"} binds
// ":name" in the SQL), as Go's database/sql does; the state machine binds a
// name exactly as written in the SQL (":name", "@name", "$name"). This file
// bridges the two by finding which prefixed forms the SQL text uses.
//
// The scan is lexical and follows SQLite's rules for what is not a
// parameter: text inside 'strings', "identifiers", `identifiers`,
// [identifiers], -- line comments and /* block comments */. A parameter
// name runs over identifier characters (ASCII letters, digits, '_', '$' and
// every byte >= 0x80), as in SQLite's tokenizer. Tcl-style "$a::b(c)" names
// are not recognised; send them with their prefix.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace reef::prod::http {

// Every distinct prefixed parameter name (":a", "@a", "$a") in `sql`, in
// order of first appearance. Numbered "?N" parameters are not listed.
std::vector<std::string> named_parameters_in(std::string_view sql);

// The SQL names a JSON key binds. A key that already starts with ':', '@',
// '$' or '?' binds itself. Otherwise every prefixed form of it that the
// statement uses (normally one); if it uses none, ":" + key, so that the
// state machine reports the missing parameter by name.
std::vector<std::string> sql_names_for_key(std::string_view key, const std::vector<std::string>& sql_names);

}  // namespace reef::prod::http
