# reef_http_api: the rqlite-compatible HTTP API as pure logic (no sockets):
# HTTP request -> planned operations -> node outcomes -> HTTP response.
# The Beast server links it. See docs/HTTP_API.md.
find_package(nlohmann_json REQUIRED)
add_library(reef_http_api
  ${CMAKE_CURRENT_LIST_DIR}/api/http_api_request.cc
  ${CMAKE_CURRENT_LIST_DIR}/api/http_duration.cc
  ${CMAKE_CURRENT_LIST_DIR}/api/http_errors.cc
  ${CMAKE_CURRENT_LIST_DIR}/api/http_named_params.cc
  ${CMAKE_CURRENT_LIST_DIR}/api/http_query_options.cc
  ${CMAKE_CURRENT_LIST_DIR}/api/http_request_parser.cc
  ${CMAKE_CURRENT_LIST_DIR}/api/http_request_planner.cc
  ${CMAKE_CURRENT_LIST_DIR}/api/http_response_writer.cc
  ${CMAKE_CURRENT_LIST_DIR}/api/http_statement_parser.cc
  ${CMAKE_CURRENT_LIST_DIR}/api/http_time_value.cc
  ${CMAKE_CURRENT_LIST_DIR}/api/http_value_json.cc
)
target_link_libraries(reef_http_api PUBLIC reef_statemachine nlohmann_json::nlohmann_json absl::status absl::statusor absl::time
  absl::strings)
reef_strict(reef_http_api)
