// FlatBuffers <-> Value conversion shared by the batch and response codecs.
#pragma once

#include "absl/status/statusor.h"
#include "flatbuffers/flatbuffers.h"
#include "statemachine/value.h"
#include "value_generated.h"

namespace reef::statemachine {

flatbuffers::Offset<fbs::Value> write_value(flatbuffers::FlatBufferBuilder& fbb, const Value& value);
// `what` names the value in error messages ("statement 2 parameter 1").
absl::StatusOr<Value> read_value(const fbs::Value* value, absl::string_view what);

}  // namespace reef::statemachine
