#include "statemachine/query_codec.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "query_generated.h"
#include "statemachine/value_codec.h"

namespace reef::statemachine {
namespace {

std::string as_string(const flatbuffers::String* s) { return s == nullptr ? std::string() : s->str(); }

// QueryRequest/QueryResponse carry no file identifier (one root per schema
// file); the verifier still checks every offset.
template <typename T>
const T* verified_root(absl::string_view bytes) {
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!verifier.VerifyBuffer<T>(nullptr)) return nullptr;
  return flatbuffers::GetRoot<T>(bytes.data());
}

}  // namespace

std::string encode_query_request(const Statement& query) {
  flatbuffers::FlatBufferBuilder fbb(256);
  std::vector<flatbuffers::Offset<fbs::Param>> params;
  for (const Param& param : query.params) {
    auto name = param.name.empty() ? 0 : fbb.CreateString(param.name);
    auto value = write_value(fbb, param.value);
    params.push_back(fbs::CreateParam(fbb, name, value));
  }
  auto sql = fbb.CreateString(query.sql);
  fbb.Finish(fbs::CreateQueryRequest(fbb, sql, fbb.CreateVector(params)));
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

absl::StatusOr<Statement> decode_query_request(absl::string_view bytes) {
  const fbs::QueryRequest* in = verified_root<fbs::QueryRequest>(bytes);
  if (in == nullptr) return absl::InvalidArgumentError(absl::StrCat("request of ", bytes.size(), " bytes is not a valid QueryRequest"));
  Statement out;
  out.sql = as_string(in->sql());
  if (in->params() == nullptr) return out;
  for (flatbuffers::uoffset_t i = 0; i < in->params()->size(); ++i) {
    const fbs::Param* param = in->params()->Get(i);
    const std::string what = absl::StrCat("query parameter ", i);
    if (param == nullptr) return absl::InvalidArgumentError(absl::StrCat(what, ": missing"));
    auto value = read_value(param->value(), what);
    if (!value.ok()) return value.status();
    out.params.push_back(Param{as_string(param->name()), *std::move(value)});
  }
  return out;
}

std::string encode_query_response(const QueryResponse& response) {
  flatbuffers::FlatBufferBuilder fbb(1024);
  std::vector<flatbuffers::Offset<fbs::Column>> columns;
  for (const Column& column : response.columns) {
    columns.push_back(fbs::CreateColumn(fbb, fbb.CreateString(column.name), fbb.CreateString(column.declared_type)));
  }
  std::vector<flatbuffers::Offset<fbs::Row>> rows;
  std::vector<flatbuffers::Offset<fbs::Value>> values;
  for (const Row& row : response.rows) {
    values.clear();
    for (const Value& value : row) values.push_back(write_value(fbb, value));
    rows.push_back(fbs::CreateRow(fbb, fbb.CreateVector(values)));
  }
  auto message = response.message.empty() ? 0 : fbb.CreateString(response.message);
  fbb.Finish(fbs::CreateQueryResponse(fbb, static_cast<fbs::ErrorCode>(response.error_code), response.sqlite_code,
                                      message, fbb.CreateVector(columns), fbb.CreateVector(rows)));
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

absl::StatusOr<QueryResponse> decode_query_response(absl::string_view bytes) {
  const fbs::QueryResponse* in = verified_root<fbs::QueryResponse>(bytes);
  if (in == nullptr) return absl::InvalidArgumentError(absl::StrCat("response of ", bytes.size(), " bytes is not a valid QueryResponse"));
  QueryResponse out;
  out.error_code = static_cast<ErrorCode>(in->error_code());
  out.sqlite_code = in->sqlite_code();
  out.message = as_string(in->message());
  if (in->columns() != nullptr) {
    for (const fbs::Column* column : *in->columns()) {
      if (column == nullptr) return absl::InvalidArgumentError("query response: column missing");
      out.columns.push_back(Column{as_string(column->name()), as_string(column->declared_type())});
    }
  }
  if (in->rows() != nullptr) {
    for (const fbs::Row* row : *in->rows()) {
      if (row == nullptr) return absl::InvalidArgumentError("query response: row missing");
      Row values;
      if (row->values() != nullptr) {
        for (const fbs::Value* value : *row->values()) {
          auto decoded = read_value(value, "query response cell");
          if (!decoded.ok()) return decoded.status();
          values.push_back(*std::move(decoded));
        }
      }
      out.rows.push_back(std::move(values));
    }
  }
  return out;
}

}  // namespace reef::statemachine
