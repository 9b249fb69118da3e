# `reefdb` client side (label: prod): the HTTP client and the SQL shell /
# status command against fake nodes (real HttpServers on 127.0.0.1).
reef_test(http_client_test LABEL prod SOURCES ${CMAKE_CURRENT_LIST_DIR}/shell/http_client_test.cc
  LIBS reef_cli reef_http_server GTest::gmock)
reef_test(sql_shell_test LABEL prod SOURCES ${CMAKE_CURRENT_LIST_DIR}/shell/sql_shell_test.cc
  LIBS reef_cli reef_http_server GTest::gmock)
