// The server against raw peers that speak the protocol badly.
#include "common/ttrpc/server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <barrier>
#include <latch>
#include <thread>

#include "common/fd_io.h"
#include "common/tempdir.h"
#include "common/ttrpc/client.h"
#include "common/ttrpc/frame.h"
#include "common/unix_socket.h"
#include "tests/unit/common/ttrpc/rpc_fixture.h"

namespace vmrt::ttrpc {
namespace {

using namespace rpc_test;
using namespace std::chrono_literals;

// --- Raw peers -------------------------------------------------------------

// The status of the next response on `fd`, checking its stream id.
wire::Status next_status(int fd, uint32_t stream_id) {
  auto frame = read_frame(fd, MessageType::Response);
  if (!frame) throw Error("no response");
  EXPECT_EQ(frame->header.stream_id, stream_id);
  return parse_response(frame->payload).status();
}

// The server closing: end of stream, or a reset if it closed with our
// bytes unread.
bool closed_by_server(int fd) {
  char c;
  ssize_t n = ::recv(fd, &c, 1, 0);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

TEST_F(TtrpcRpc, GarbageDisconnectsOnlyThatPeer) {
  start();
  auto good = client();
  EXPECT_EQ(good->call(kService, "Echo", "before"), "before");

  {  // Text: its first four bytes read as a length far over the limit.
    UniqueFd fd = raw();
    write_all(fd.get(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    wire::Status s = next_status(fd.get(), 0x2f204854);  // "/ HT"
    EXPECT_EQ(s.code(), static_cast<int>(Code::ResourceExhausted));
    EXPECT_TRUE(closed_by_server(fd.get()));
  }
  {  // A well-framed request whose payload is not protobuf.
    UniqueFd fd = raw();
    write_all(fd.get(), encode_frame(1, MessageType::Request,
                                     std::string("\x0a\x7f"
                                                 "ab",
                                                 4)));
    wire::Status s = next_status(fd.get(), 1);
    EXPECT_EQ(s.code(), static_cast<int>(Code::InvalidArgument));
    EXPECT_TRUE(closed_by_server(fd.get()));
  }
  for (uint8_t type : {0, 2, 3, 200}) {  // types a server does not take
    UniqueFd fd = raw();
    std::string frame = encode_frame(1, MessageType::Request, request_bytes(kService, "Echo", "x"));
    frame[8] = static_cast<char>(type);
    write_all(fd.get(), frame);
    EXPECT_TRUE(closed_by_server(fd.get())) << int(type);
  }
  {  // A frame cut short, then the peer half-closes.
    UniqueFd fd = raw();
    std::string frame = encode_frame(1, MessageType::Request, request_bytes(kService, "Echo", "x"));
    write_all(fd.get(), frame.substr(0, 12));
    ::shutdown(fd.get(), SHUT_WR);
    EXPECT_TRUE(closed_by_server(fd.get()));
  }
  {  // Random bytes.
    UniqueFd fd = raw();
    std::string noise;
    for (int i = 0; i < 4096; ++i) noise += static_cast<char>((i * 7919 + 13) & 0xff);
    try {
      write_all(fd.get(), noise);
    } catch (const Error&) {
      // The server may hang up before it has read everything.
    }
    while (!closed_by_server(fd.get())) {
    }
  }

  EXPECT_EQ(good->call(kService, "Echo", "after"), "after");
  EXPECT_TRUE(eventually([&] { return server->connection_count() == 1; }));
}

TEST_F(TtrpcRpc, EvenStreamIdIsRefusedButTheConnectionGoesOn) {
  start();
  UniqueFd fd = raw();
  write_all(fd.get(), encode_frame(2, MessageType::Request, request_bytes(kService, "Echo", "x")));
  wire::Status s = next_status(fd.get(), 2);
  EXPECT_EQ(s.code(), static_cast<int>(Code::InvalidArgument));
  EXPECT_EQ(s.message(), "StreamID must be odd for client initiated streams");
  write_all(fd.get(), encode_frame(3, MessageType::Request, request_bytes(kService, "Echo", "y")));
  auto frame = read_frame(fd.get(), MessageType::Response);
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->header.stream_id, 3u);
  EXPECT_EQ(parse_response(frame->payload).payload(), "y");
}

}  // namespace
}  // namespace vmrt::ttrpc
