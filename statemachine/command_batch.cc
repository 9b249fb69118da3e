#include "statemachine/command_batch.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "command_batch_generated.h"
#include "statemachine/value_codec.h"

namespace reef::statemachine {
namespace {

// Error messages name the statement and parameter; they are built only when
// something is wrong (decoding runs for every statement of every batch).
absl::StatusOr<Statement> read_statement(const fbs::Statement* in, size_t index) {
  if (in == nullptr) return absl::InvalidArgumentError(absl::StrCat("statement ", index, ": missing"));
  Statement out;
  if (in->sql() != nullptr) out.sql.assign(in->sql()->data(), in->sql()->size());
  if (in->params() == nullptr) return out;
  out.params.reserve(in->params()->size());
  for (flatbuffers::uoffset_t i = 0; i < in->params()->size(); ++i) {
    const fbs::Param* param = in->params()->Get(i);
    if (param == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("statement ", index, " parameter ", i, ": missing"));
    }
    // read_value's message starts with the name it is given: empty here.
    auto value = read_value(param->value(), "");
    if (!value.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("statement ", index, " parameter ", i, value.status().message()));
    }
    std::string name = param->name() == nullptr ? std::string() : param->name()->str();
    out.params.push_back(Param{std::move(name), *std::move(value)});
  }
  return out;
}

}  // namespace

std::string encode_command_batch(const CommandBatch& batch) {
  flatbuffers::FlatBufferBuilder fbb(256);
  std::vector<flatbuffers::Offset<fbs::Statement>> statements;
  statements.reserve(batch.statements.size());
  for (const Statement& statement : batch.statements) {
    std::vector<flatbuffers::Offset<fbs::Param>> params;
    params.reserve(statement.params.size());
    for (const Param& param : statement.params) {
      auto name = param.name.empty() ? 0 : fbb.CreateString(param.name);
      auto value = write_value(fbb, param.value);
      params.push_back(fbs::CreateParam(fbb, name, value));
    }
    auto sql = fbb.CreateString(statement.sql);
    statements.push_back(fbs::CreateStatement(fbb, sql, fbb.CreateVector(params)));
  }
  flatbuffers::Offset<fbs::NodeAddress> node_address = 0;
  if (batch.node_address) {
    node_address = fbs::CreateNodeAddress(fbb, batch.node_address->node_id,
                                          fbb.CreateString(batch.node_address->raft_address),
                                          fbb.CreateString(batch.node_address->http_address),
                                          batch.node_address->wants_voter, batch.node_address->removed);
  }
  auto root = fbs::CreateCommandBatch(fbb, batch.id.client_id, batch.id.sequence, batch.leader_timestamp_ms,
                                      fbb.CreateVector(statements), node_address);
  fbs::FinishCommandBatchBuffer(fbb, root);
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

bool has_command_batch_identifier(absl::string_view bytes) {
  return bytes.size() >= flatbuffers::kFileIdentifierLength + sizeof(flatbuffers::uoffset_t) &&
         fbs::CommandBatchBufferHasIdentifier(bytes.data());
}

absl::StatusOr<CommandBatch> decode_command_batch(absl::string_view bytes) {
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  // The verifier checks the file identifier too, after checking the length.
  if (!fbs::VerifyCommandBatchBuffer(verifier)) {
    return absl::InvalidArgumentError(
        absl::StrCat("payload of ", bytes.size(), " bytes is not a valid CommandBatch"));
  }
  const fbs::CommandBatch* in = fbs::GetCommandBatch(bytes.data());
  CommandBatch out;
  out.id = CommandId{in->client_id(), in->sequence()};
  out.leader_timestamp_ms = in->leader_timestamp_ms();
  if (const fbs::NodeAddress* address = in->node_address(); address != nullptr) {
    out.node_address = NodeAddress{address->node_id(), address->raft_address() ? address->raft_address()->str() : "",
                                   address->http_address() ? address->http_address()->str() : "",
                                   address->wants_voter(), address->removed()};
  }
  if (in->statements() == nullptr) return out;
  out.statements.reserve(in->statements()->size());
  for (flatbuffers::uoffset_t i = 0; i < in->statements()->size(); ++i) {
    auto statement = read_statement(in->statements()->Get(i), i);
    if (!statement.ok()) return statement.status();
    out.statements.push_back(*std::move(statement));
  }
  return out;
}

}  // namespace reef::statemachine
