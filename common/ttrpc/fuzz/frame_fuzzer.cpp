// libFuzzer target: a ttrpc peer's bytes, as the server reads them. Each
// input is one connection's whole stream. It goes through the frame reader
// and the Request/Response parsers directly, then to a live server (echo and
// failing handlers registered) over a socketpair, whose answers are read to
// the end: whatever a client sends, the server answers, hangs up, or both,
// and never crashes or hangs.
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "common/fd_io.h"
#include "common/log.h"
#include "common/ttrpc/frame.h"
#include "common/ttrpc/server.h"

using namespace vmrt;
using namespace vmrt::ttrpc;

namespace {

std::unique_ptr<Server> make_server() {
  // Every refused input would log a warning.
  spdlog::set_level(spdlog::level::off);
  auto server = std::make_unique<Server>(ServerOptions{.max_in_flight_per_connection = 4});
  server->add_method("s", "echo",
                     [](const Context&, std::string_view payload) { return std::string(payload); });
  server->add_method("s", "fail", [](const Context& c, std::string_view) -> std::string {
    fail_status(Code::NotFound, "{} {}", c.metadata.size(), c.expired());
  });
  return server;
}

void pair(UniqueFd* a, UniqueFd* b) {
  int fds[2];
  check_sys(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), "socketpair");
  a->reset(fds[0]);
  b->reset(fds[1]);
}

// The frame reader and parsers alone.
void parse_stream(const uint8_t* data, size_t size, MessageType type) {
  UniqueFd writer, reader;
  pair(&writer, &reader);
  write_all(writer.get(), data, size);  // fits: inputs are at most a few KiB
  writer.reset();
  try {
    while (auto frame = read_frame(reader.get(), type)) {
      if (type == MessageType::Request)
        parse_request(frame->payload);
      else
        parse_response(frame->payload);
    }
  } catch (const Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Larger inputs could fill the socket buffers: writing them whole before
  // reading would block.
  if (size > 64 * 1024) return 0;
  static std::unique_ptr<Server> server = make_server();
  parse_stream(data, size, MessageType::Request);
  parse_stream(data, size, MessageType::Response);

  UniqueFd ours, theirs;
  pair(&ours, &theirs);
  server->serve_connection(std::move(theirs));
  try {
    write_all(ours.get(), data, size);
    ::shutdown(ours.get(), SHUT_WR);
  } catch (const Error&) {
    // The server hung up first.
  }
  // Every answer must be a well-formed response frame.
  try {
    while (auto frame = read_frame(ours.get(), MessageType::Response))
      parse_response(frame->payload);
  } catch (const Error&) {
    // A reset, when the server closes with input unread.
  }
  // The server hangs up before its cancelled handlers have finished: wait
  // for them, so that no work of this input overlaps the next one or
  // libFuzzer's leak check, which would take the memory they hold for leaks.
  while (server->connection_count() != 0) std::this_thread::yield();
  return 0;
}
