# HTTP API suites (label: prod): request parsing and planning, query options,
# and round trips through a real SqlStateMachine.
reef_test(http_query_options_test LABEL prod SOURCES ${CMAKE_CURRENT_LIST_DIR}/api/http_query_options_test.cc
  LIBS reef_http_api)
reef_test(http_request_parser_test LABEL prod SOURCES ${CMAKE_CURRENT_LIST_DIR}/api/http_request_parser_test.cc
  LIBS reef_http_api)
reef_test(http_api_round_trip_test LABEL prod SOURCES ${CMAKE_CURRENT_LIST_DIR}/api/http_api_round_trip_test.cc
  LIBS reef_http_api GTest::gmock)
reef_test(http_time_value_test LABEL prod SOURCES ${CMAKE_CURRENT_LIST_DIR}/api/http_time_value_test.cc
  LIBS reef_http_api)
