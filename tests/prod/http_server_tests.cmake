# HttpServer over real sockets on 127.0.0.1 (ephemeral ports).
reef_test(http_server_test LABEL prod SOURCES ${CMAKE_CURRENT_LIST_DIR}/http/http_server_test.cc
  LIBS reef_http_server GTest::gmock)
