# reef_http_server: the HTTP/1.1 server (Boost.Beast) that carries the HTTP
# API: requests in as http::HttpRequest, answers out as http::HttpResponse,
# on the node's single-threaded io_context.
find_package(Boost REQUIRED)
find_package(Threads REQUIRED)
add_library(reef_http_server
  ${CMAKE_CURRENT_LIST_DIR}/http/http_server.cc
  ${CMAKE_CURRENT_LIST_DIR}/http/http_server_options.cc
  ${CMAKE_CURRENT_LIST_DIR}/http/http_server_response.cc
  ${CMAKE_CURRENT_LIST_DIR}/http/http_server_session.cc
)
# reef_asio_transport for parse_host_port (the same "host:port" syntax).
target_link_libraries(reef_http_server PUBLIC reef_http_api reef_asio_transport Boost::boost Threads::Threads
  absl::status absl::statusor absl::strings)
reef_strict(reef_http_server)
