# reef_asio_transport: raft::Transport over TCP with Boost.Asio (frames and
# envelopes from transport/). Runs on the node's single-threaded io_context.
find_package(Boost REQUIRED)
find_package(Threads REQUIRED)
add_library(reef_asio_transport
  net/asio_transport.cc
  net/host_port.cc
  net/asio_transport_inbound.cc
  net/asio_transport_options.cc
  net/asio_transport_peer_link.cc
)
target_link_libraries(reef_asio_transport PUBLIC reef_raft reef_transport Boost::headers Threads::Threads
  absl::status absl::statusor absl::strings)
reef_strict(reef_asio_transport)
