#include "statemachine/batch_response.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "batch_response_generated.h"
#include "statemachine/value_codec.h"

namespace reef::statemachine {
namespace {

std::string as_string(const flatbuffers::String* s) { return s == nullptr ? std::string() : s->str(); }

flatbuffers::Offset<fbs::StatementResult> write_result(flatbuffers::FlatBufferBuilder& fbb,
                                                       const StatementResult& result) {
  std::vector<flatbuffers::Offset<fbs::Column>> columns;
  columns.reserve(result.columns.size());
  for (const Column& column : result.columns) {
    columns.push_back(fbs::CreateColumn(fbb, fbb.CreateString(column.name), fbb.CreateString(column.declared_type)));
  }
  std::vector<flatbuffers::Offset<fbs::Row>> rows;
  rows.reserve(result.rows.size());
  std::vector<flatbuffers::Offset<fbs::Value>> values;
  for (const Row& row : result.rows) {
    values.clear();
    for (const Value& value : row) values.push_back(write_value(fbb, value));
    rows.push_back(fbs::CreateRow(fbb, fbb.CreateVector(values)));
  }
  auto columns_offset = columns.empty() ? 0 : fbb.CreateVector(columns);
  auto rows_offset = rows.empty() ? 0 : fbb.CreateVector(rows);
  return fbs::CreateStatementResult(fbb, result.rows_affected, result.last_insert_id, columns_offset,
                                    rows_offset);
}

absl::StatusOr<StatementResult> read_result(const fbs::StatementResult* in, size_t index) {
  const std::string where = absl::StrCat("result ", index);
  if (in == nullptr) return absl::InvalidArgumentError(absl::StrCat(where, ": missing"));
  StatementResult out;
  out.rows_affected = in->rows_affected();
  out.last_insert_id = in->last_insert_id();
  if (in->columns() != nullptr) {
    for (const fbs::Column* column : *in->columns()) {
      if (column == nullptr) return absl::InvalidArgumentError(absl::StrCat(where, ": column missing"));
      out.columns.push_back(Column{as_string(column->name()), as_string(column->declared_type())});
    }
  }
  if (in->rows() == nullptr) return out;
  for (const fbs::Row* row : *in->rows()) {
    if (row == nullptr) return absl::InvalidArgumentError(absl::StrCat(where, ": row missing"));
    Row values;
    if (row->values() != nullptr) {
      for (const fbs::Value* value : *row->values()) {
        auto decoded = read_value(value, where);
        if (!decoded.ok()) return decoded.status();
        values.push_back(*std::move(decoded));
      }
    }
    out.rows.push_back(std::move(values));
  }
  return out;
}

}  // namespace

const char* apply_status_name(ApplyStatus status) {
  switch (status) {
    case ApplyStatus::kOk: return "ok";
    case ApplyStatus::kStatementFailed: return "statement failed";
    case ApplyStatus::kStale: return "stale";
    case ApplyStatus::kInvalidBatch: return "invalid batch";
  }
  return "unknown";
}

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNone: return "none";
    case ErrorCode::kSqlError: return "sql error";
    case ErrorCode::kConstraint: return "constraint";
    case ErrorCode::kRefused: return "refused";
    case ErrorCode::kInvalidParameter: return "invalid parameter";
    case ErrorCode::kResourceLimit: return "resource limit";
    case ErrorCode::kStale: return "stale";
    case ErrorCode::kInvalidBatch: return "invalid batch";
  }
  return "unknown";
}

std::string encode_batch_response(const BatchResponse& response) {
  flatbuffers::FlatBufferBuilder fbb(256);
  std::vector<flatbuffers::Offset<fbs::StatementResult>> results;
  results.reserve(response.results.size());
  for (const StatementResult& result : response.results) results.push_back(write_result(fbb, result));
  auto results_offset = results.empty() ? 0 : fbb.CreateVector(results);
  auto message = response.message.empty() ? 0 : fbb.CreateString(response.message);
  auto root = fbs::CreateBatchResponse(
      fbb, static_cast<fbs::ApplyStatus>(response.status), response.duplicate, response.id.client_id,
      response.id.sequence, results_offset, response.failed_statement,
      static_cast<fbs::ErrorCode>(response.error_code), response.sqlite_code, message);
  fbs::FinishBatchResponseBuffer(fbb, root);
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

absl::StatusOr<BatchResponse> decode_batch_response(absl::string_view bytes) {
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!fbs::VerifyBatchResponseBuffer(verifier)) {
    return absl::InvalidArgumentError(
        absl::StrCat("response of ", bytes.size(), " bytes is not a valid BatchResponse"));
  }
  const fbs::BatchResponse* in = fbs::GetBatchResponse(bytes.data());
  BatchResponse out;
  out.status = static_cast<ApplyStatus>(in->status());
  out.duplicate = in->duplicate();
  out.id = CommandId{in->client_id(), in->sequence()};
  out.failed_statement = in->failed_statement();
  out.error_code = static_cast<ErrorCode>(in->error_code());
  out.sqlite_code = in->sqlite_code();
  out.message = as_string(in->message());
  if (in->results() == nullptr) return out;
  for (flatbuffers::uoffset_t i = 0; i < in->results()->size(); ++i) {
    auto result = read_result(in->results()->Get(i), i);
    if (!result.ok()) return result.status();
    out.results.push_back(*std::move(result));
  }
  return out;
}

}  // namespace reef::statemachine
