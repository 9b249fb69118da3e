#include "statemachine/value_codec.h"

#include <type_traits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace reef::statemachine {

flatbuffers::Offset<fbs::Value> write_value(flatbuffers::FlatBufferBuilder& fbb, const Value& value) {
  return std::visit(
      [&fbb](const auto& v) -> flatbuffers::Offset<fbs::Value> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return fbs::CreateValue(fbb, fbs::ValueKind::Null);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return fbs::CreateValue(fbb, fbs::ValueKind::Integer, v);
        } else if constexpr (std::is_same_v<T, double>) {
          return fbs::CreateValue(fbb, fbs::ValueKind::Real, 0, v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          auto text = fbb.CreateString(v);
          return fbs::CreateValue(fbb, fbs::ValueKind::Text, 0, 0, text);
        } else if constexpr (std::is_same_v<T, Blob>) {
          auto blob = fbb.CreateVector(reinterpret_cast<const uint8_t*>(v.bytes.data()), v.bytes.size());
          return fbs::CreateValue(fbb, fbs::ValueKind::Blob, 0, 0, 0, blob);
        } else {
          static_assert(std::is_same_v<T, bool>);
          return fbs::CreateValue(fbb, fbs::ValueKind::Bool, 0, 0, 0, 0, v);
        }
      },
      value);
}

absl::StatusOr<Value> read_value(const fbs::Value* value, absl::string_view what) {
  if (value == nullptr) return absl::InvalidArgumentError(absl::StrCat(what, ": value missing"));
  switch (value->kind()) {
    case fbs::ValueKind::Null:
      return Value(std::monostate{});
    case fbs::ValueKind::Integer:
      return Value(static_cast<int64_t>(value->integer()));
    case fbs::ValueKind::Real:
      return Value(value->real());
    case fbs::ValueKind::Text:
      if (value->text() == nullptr) return Value(std::string());
      return Value(std::string(value->text()->data(), value->text()->size()));
    case fbs::ValueKind::Blob:
      if (value->blob() == nullptr) return Value(Blob{});
      return Value(Blob{std::string(reinterpret_cast<const char*>(value->blob()->data()), value->blob()->size())});
    case fbs::ValueKind::Bool:
      return Value(value->boolean());
  }
  return absl::InvalidArgumentError(
      absl::StrCat(what, ": unknown value kind ", static_cast<int>(value->kind())));
}

}  // namespace reef::statemachine
