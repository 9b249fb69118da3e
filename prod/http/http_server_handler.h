// What prod/http/http_server.h hands each request to. Separate from the server so
// the API glue can name the type without pulling in Boost.
#pragma once

#include <functional>

#include "prod/api/http_message.h"

namespace reef::prod {

// Called on the loop once per request, in the order requests arrive on a
// connection. `respond` sends the answer; it may be called at once or later
// from the loop (after a Raft commit, say), and is safe to call after the
// connection closed or the server stopped (it then does nothing). Only its
// first call counts. Dropping every copy of `respond` without calling it is
// a handler bug: the client gets 500 then (HttpServerStats::unanswered)
// instead of waiting forever. The handler must not throw: an exception
// would leave the loop.
using HttpHandler =
    std::function<void(http::HttpRequest request, std::function<void(http::HttpResponse)> respond)>;

}  // namespace reef::prod
