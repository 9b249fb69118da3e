// Turns the statements of a request into the operations the server runs
// (the rules are in http_api_request.h). Each statement is first classified
// with statemachine/statement_classifier.h, so that nothing refused ever
// reaches the log and no write ever takes the read path.
#pragma once

#include <vector>

#include "prod/api/http_api_request.h"
#include "prod/api/http_errors.h"
#include "prod/api/http_query_options.h"
#include "statemachine/value.h"

namespace reef::prod::http {

// kBadParameter when `client_id`/`seq` are given but the plan has more than
// one batch: exactly-once covers one command, so such a request must use
// `transaction` (or send one statement).
ApiResult<ApiRequest> plan_request(Endpoint endpoint, RequestOptions options,
                                   std::vector<statemachine::Statement> statements);

}  // namespace reef::prod::http
