// The client against raw servers: stream ids, a server that closes or
// answers badly.
#include "common/ttrpc/client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <barrier>
#include <latch>
#include <thread>

#include "common/fd_io.h"
#include "common/tempdir.h"
#include "common/ttrpc/frame.h"
#include "common/ttrpc/server.h"
#include "common/unix_socket.h"
#include "tests/unit/common/ttrpc/rpc_fixture.h"
#include "tests/unit/common/ttrpc/socket_pair.h"

namespace vmrt::ttrpc {
namespace {

using namespace rpc_test;
using namespace std::chrono_literals;

// The client under test gets `theirs`; the test answers on `ours`.
struct RawServer {
  UniqueFd ours, theirs;
  RawServer() {
    auto p = test::socket_pair();
    ours = std::move(p.a);
    theirs = std::move(p.b);
  }
};

TEST(TtrpcClient, StreamIdsAreOddAndIncreasing) {
  RawServer raw;
  Client c(std::move(raw.theirs));
  std::jthread answerer([&] {
    for (uint32_t want = 1; want <= 7; want += 2) {
      auto frame = read_frame(raw.ours.get(), MessageType::Request);
      ASSERT_TRUE(frame);
      EXPECT_EQ(frame->header.stream_id, want);
      wire::Request r = parse_request(frame->payload);
      EXPECT_EQ(r.service(), "s");
      EXPECT_EQ(r.method(), "m");
      wire::Response response;
      response.set_payload(r.payload());
      write_all(raw.ours.get(),
                encode_frame(want, MessageType::Response, response.SerializeAsString()));
    }
  });
  for (int i = 0; i < 4; ++i) EXPECT_EQ(c.call("s", "m", std::to_string(i)), std::to_string(i));
}

TEST(TtrpcClient, ServerClosingFailsPendingCallsWithUnavailable) {
  RawServer raw;
  Client c(std::move(raw.theirs));
  std::vector<std::jthread> callers;
  std::atomic<int> unavailable{0};
  for (int i = 0; i < 4; ++i)
    callers.emplace_back([&] {
      if (code_of([&] { c.call("s", "m", ""); }) == Code::Unavailable) ++unavailable;
    });
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(read_frame(raw.ours.get(), MessageType::Request));
  raw.ours.reset();
  callers.clear();
  EXPECT_EQ(unavailable, 4);
  EXPECT_FALSE(c.connected());
  EXPECT_EQ(code_of([&] { c.call("s", "m", ""); }), Code::Unavailable);
}

TEST(TtrpcClient, MalformedResponseClosesTheConnection) {
  RawServer raw;
  Client c(std::move(raw.theirs));
  std::jthread answerer([&] {
    auto frame = read_frame(raw.ours.get(), MessageType::Request);
    ASSERT_TRUE(frame);
    // An answer for a stream nobody waits on is dropped ...
    write_all(raw.ours.get(), encode_frame(99, MessageType::Response, ""));
    // ... one of the wrong type ends the connection.
    write_all(raw.ours.get(), encode_frame(frame->header.stream_id, MessageType::Request, ""));
  });
  EXPECT_EQ(code_of([&] { c.call("s", "m", ""); }), Code::Unavailable);
  EXPECT_FALSE(c.connected());
}

TEST(TtrpcClient, OversizeResponseClosesTheConnection) {
  RawServer raw;
  Client c(std::move(raw.theirs));
  std::jthread answerer([&] {
    ASSERT_TRUE(read_frame(raw.ours.get(), MessageType::Request));
    auto h = encode_header({.length = kMaxMessageSize + 1, .stream_id = 1, .type = 2});
    write_all(raw.ours.get(), h.data(), h.size());
  });
  EXPECT_EQ(code_of([&] { c.call("s", "m", ""); }), Code::Unavailable);
}

}  // namespace
}  // namespace vmrt::ttrpc
