// Client and server together over real Unix sockets, plus raw peers that
// speak the protocol badly.
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
#include "common/ttrpc/server.h"
#include "common/unix_socket.h"
#include "tests/unit/common/ttrpc/rpc_fixture.h"
#include "tests/unit/common/ttrpc/socket_pair.h"

namespace vmrt::ttrpc {
namespace {

using namespace rpc_test;
using namespace std::chrono_literals;

TEST_F(TtrpcRpc, RoundTrip) {
  start();
  auto c = client();
  EXPECT_EQ(c->call(kService, "Echo", "hello"), "hello");
  std::string binary("\0\xff\x01", 3);
  EXPECT_EQ(c->call(kService, "Echo", binary), binary);
  EXPECT_EQ(c->call(kService, "Echo", ""), "");
  std::string big(3 << 20, 'z');
  EXPECT_EQ(c->call(kService, "Echo", big), big);
  EXPECT_TRUE(c->connected());
}

TEST_F(TtrpcRpc, UnixSchemeAddress) {
  start();
  auto c = Client::connect("unix://" + socket.string());
  EXPECT_EQ(c->call(kService, "Echo", "x"), "x");
}

TEST_F(TtrpcRpc, HandlerSeesDeadlineAndMetadata) {
  start();
  auto c = client();
  EXPECT_EQ(c->call(kService, "Context", ""), "vmrt.test.Echo Context deadline=false a=- b=-");
  CallOptions options{.timeout = 5s, .metadata = {{"a", "1"}, {"B", "2"}, {"a", "3"}}};
  EXPECT_EQ(c->call(kService, "Context", "", options),
            "vmrt.test.Echo Context deadline=true a=1 b=2");
}

TEST_F(TtrpcRpc, ConcurrentCallsFromEightThreadsOverOneConnection) {
  start();
  auto c = client();
  constexpr int kThreads = 8, kCalls = 100;
  std::atomic<int> ok{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < kCalls; ++i) {
          std::string payload = fmt::format("{}-{}-{}", t, i, std::string(i * 37 % 500, 'p'));
          // Some calls sleep so that answers overtake each other.
          if (i % 10 == 0) {
            if (c->call(kService, "Sleep", std::to_string(i % 7)) == std::to_string(i % 7)) ++ok;
          } else if (c->call(kService, "Echo", payload) == payload) {
            ++ok;
          }
        }
      });
  }
  EXPECT_EQ(ok, kThreads * kCalls);
  EXPECT_EQ(server->connection_count(), 1u);
}

TEST_F(TtrpcRpc, RequestsOnOneConnectionRunConcurrently) {
  start();
  auto c = client();
  constexpr int kCalls = 8;
  std::vector<std::jthread> threads;
  std::atomic<int> answered{0};
  for (int i = 0; i < kCalls; ++i)
    threads.emplace_back([&] {
      if (c->call(kService, "Block", "") == "released") ++answered;
    });
  // All eight handlers are inside at once, each blocked: one at a time could
  // never get there.
  EXPECT_TRUE(eventually([&] { return blocked == kCalls; }));
  release();
  threads.clear();
  EXPECT_EQ(answered, kCalls);
}

TEST_F(TtrpcRpc, InFlightLimitHoldsFurtherRequestsBack) {
  start({.max_in_flight_per_connection = 2});
  auto c = client();
  std::vector<std::jthread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&] { c->call(kService, "Block", ""); });
  EXPECT_TRUE(eventually([&] { return blocked == 2; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(blocked, 2);
  release();
  threads.clear();
  EXPECT_EQ(blocked, 4);
}

TEST_F(TtrpcRpc, DeadlineExceeded) {
  start();
  auto c = client();
  auto begin = std::chrono::steady_clock::now();
  EXPECT_EQ(code_of([&] { c->call(kService, "Sleep", "1000", {.timeout = 100ms}); }),
            Code::DeadlineExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 900ms);
  // The late answer is dropped and the connection goes on.
  EXPECT_EQ(c->call(kService, "Echo", "after"), "after");
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(c->call(kService, "Echo", "later"), "later");
}

TEST_F(TtrpcRpc, CancelEndsTheWaitAndTheConnectionGoesOn) {
  start();
  auto c = client();
  std::stop_source cancel;
  Code code = Code::Ok;
  std::thread caller([&] {
    code = code_of([&] { c->call(kService, "Block", "", {.cancel = cancel.get_token()}); });
  });
  ASSERT_TRUE(eventually([&] { return blocked == 1; }));
  cancel.request_stop();
  caller.join();
  EXPECT_EQ(code, Code::Cancelled);
  // A token stopped before the call cancels it at once.
  EXPECT_EQ(code_of([&] { c->call(kService, "Echo", "x", {.cancel = cancel.get_token()}); }),
            Code::Cancelled);
  // The handler still runs; its late answer is dropped.
  release();
  EXPECT_EQ(c->call(kService, "Echo", "after"), "after");
  EXPECT_TRUE(c->connected());
}

TEST_F(TtrpcRpc, UnknownServiceOrMethodIsUnimplemented) {
  start();
  auto c = client();
  // The same words as Go's ttrpc.
  EXPECT_EQ(code_of([&] { c->call("nope.Service", "Echo", ""); }), Code::Unimplemented);
  EXPECT_EQ(message_of([&] { c->call("nope.Service", "Echo", ""); }), "service nope.Service");
  EXPECT_EQ(code_of([&] { c->call(kService, "Nope", ""); }), Code::Unimplemented);
  EXPECT_EQ(message_of([&] { c->call(kService, "Nope", ""); }), "method Nope");
  EXPECT_EQ(c->call(kService, "Echo", "still"), "still");
}

TEST_F(TtrpcRpc, HandlerErrorsBecomeStatuses) {
  start();
  auto c = client();
  try {
    c->call(kService, "Fail", "c1");
    FAIL();
  } catch (const StatusError& e) {
    EXPECT_EQ(e.status_code(), Code::NotFound);
    EXPECT_EQ(e.message(), "no such container c1");
    EXPECT_STREQ(e.what(), "NOT_FOUND: no such container c1");
  }
  EXPECT_EQ(code_of([&] { c->call(kService, "Throw", ""); }), Code::Unknown);
  EXPECT_EQ(message_of([&] { c->call(kService, "Throw", ""); }), "boom");
  EXPECT_EQ(code_of([&] { c->call(kService, "Errno", ""); }), Code::NotFound);
  EXPECT_EQ(code_of([&] { c->call(kService, "Big", ""); }), Code::ResourceExhausted);
  EXPECT_EQ(c->call(kService, "Echo", "fine"), "fine");
}

TEST_F(TtrpcRpc, OversizeRequestFailsLocally) {
  start();
  auto c = client();
  EXPECT_EQ(code_of([&] { c->call(kService, "Echo", std::string(kMaxMessageSize, 'x')); }),
            Code::ResourceExhausted);
  EXPECT_EQ(c->call(kService, "Echo", "fine"), "fine");
}

TEST_F(TtrpcRpc, ShutdownLetsRunningCallsFinish) {
  start();
  auto c = client();
  std::string answer;
  std::jthread caller([&] { answer = c->call(kService, "Sleep", "200"); });
  std::this_thread::sleep_for(50ms);
  server->shutdown();
  caller.join();
  EXPECT_EQ(answer, "200");
  EXPECT_EQ(code_of([&] { c->call(kService, "Echo", ""); }), Code::Unavailable);
  EXPECT_THROW(connect_unix(socket), Error);
}

TEST_F(TtrpcRpc, ShutdownFailsPendingCalls) {
  start({.shutdown_grace = 100ms});
  auto c = client();
  std::vector<std::jthread> callers;
  std::atomic<int> unavailable{0};
  for (int i = 0; i < 3; ++i)
    callers.emplace_back([&] {
      // Block ends on its stop token, after the grace period; its answer is
      // never written because the connection is closed by then.
      if (code_of([&] { c->call(kService, "Block", ""); }) == Code::Unavailable) ++unavailable;
    });
  ASSERT_TRUE(eventually([&] { return blocked == 3; }));
  server->shutdown();
  callers.clear();
  EXPECT_EQ(unavailable, 3);
  EXPECT_FALSE(c->connected());
  EXPECT_EQ(code_of([&] { c->call(kService, "Echo", ""); }), Code::Unavailable);
}

TEST_F(TtrpcRpc, ClientGoneStopsItsHandlers) {
  start();
  {
    auto c = client();
    Code code = Code::Ok;
    std::jthread caller([&] { code = code_of([&] { c->call(kService, "Block", ""); }); });
    ASSERT_TRUE(eventually([&] { return blocked == 1; }));
    c.reset();  // fails the call, closes the socket
    caller.join();
    EXPECT_EQ(code, Code::Unavailable);
  }
  EXPECT_TRUE(eventually([&] { return server->connection_count() == 0; }));
}

TEST_F(TtrpcRpc, ServesAnInheritedListenerAndAConnectedSocket) {
  server = std::make_unique<Server>();
  server->add_method(kService, "Echo",
                     [](const Context&, std::string_view p) { return std::string(p); });
  server->start(listen_unix(socket));
  EXPECT_EQ(client()->call(kService, "Echo", "listener"), "listener");

  auto pair = test::socket_pair();
  server->serve_connection(std::move(pair.a));
  Client c(std::move(pair.b));
  EXPECT_EQ(c.call(kService, "Echo", "pair"), "pair");
}

TEST_F(TtrpcRpc, DuplicateRegistrationIsAnError) {
  Server s;
  s.add_method("a", "b", [](const Context&, std::string_view) { return std::string(); });
  EXPECT_THROW(
      s.add_method("a", "b", [](const Context&, std::string_view) { return std::string(); }),
      Error);
}

TEST_F(TtrpcRpc, RequireSameUserAcceptsOurselves) {
  start({.require_same_user = true});
  EXPECT_EQ(client()->call(kService, "Echo", "me"), "me");
}

}  // namespace
}  // namespace vmrt::ttrpc
