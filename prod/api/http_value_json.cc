#include "prod/api/http_value_json.h"

#include <cmath>
#include <cstddef>
#include <optional>
#include <type_traits>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "prod/api/http_time_value.h"

namespace reef::prod::http {
namespace {

std::string value_type_name(const statemachine::Value& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) return "integer";
        if constexpr (std::is_same_v<T, double>) return "real";
        if constexpr (std::is_same_v<T, std::string>) return "text";
        if constexpr (std::is_same_v<T, statemachine::Blob>) return "blob";
        if constexpr (std::is_same_v<T, bool>) return "boolean";
        return "";
      },
      value);
}

Json blob_json(const statemachine::Blob& blob, bool blob_array) {
  if (!blob_array) return Json(absl::Base64Escape(blob.bytes));
  Json bytes = Json::array();
  for (const char c : blob.bytes) bytes.push_back(static_cast<unsigned char>(c));
  return bytes;
}

}  // namespace

Json value_json(const statemachine::Value& value, bool blob_array) {
  return std::visit(
      [blob_array](const auto& v) -> Json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return Json(nullptr);
        } else if constexpr (std::is_same_v<T, double>) {
          return std::isfinite(v) ? Json(v) : Json(nullptr);
        } else if constexpr (std::is_same_v<T, statemachine::Blob>) {
          return blob_json(v, blob_array);
        } else {
          return Json(v);
        }
      },
      value);
}

Json cell_json(const statemachine::Column& column, const statemachine::Value& value, bool blob_array) {
  if (is_time_column(column.declared_type)) {
    if (std::optional<std::string> time = time_column_text(value)) return Json(*std::move(time));
  }
  return value_json(value, blob_array);
}

std::vector<std::string> column_types(const std::vector<statemachine::Column>& columns,
                                      const std::vector<statemachine::Row>& rows) {
  std::vector<std::string> types;
  types.reserve(columns.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    std::string type = absl::AsciiStrToLower(columns[i].declared_type);
    if (type.empty() && !rows.empty() && i < rows.front().size()) type = value_type_name(rows.front()[i]);
    types.push_back(std::move(type));
  }
  return types;
}

}  // namespace reef::prod::http
