# AsioTransport over real sockets on 127.0.0.1 (ephemeral ports).
reef_test(asio_transport_test LABEL prod SOURCES net/asio_transport_test.cc
  LIBS reef_asio_transport reef_transport GTest::gmock)
