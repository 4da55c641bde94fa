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
#include "tests/unit/ttrpc/socket_pair.h"

namespace vmrt::ttrpc {
namespace {

using namespace std::chrono_literals;

constexpr const char* kService = "vmrt.test.Echo";

Code code_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const StatusError& e) {
    return e.status_code();
  }
  return Code::Ok;
}

std::string message_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const StatusError& e) {
    return e.message();
  }
  return "";
}

class TtrpcRpc : public ::testing::Test {
 protected:
  void start(ServerOptions options = {}) {
    server = std::make_unique<Server>(options);
    server->add_method(kService, "Echo", [](const Context&, std::string_view payload) {
      return std::string(payload);
    });
    server->add_method(kService, "Fail",
                       [](const Context&, std::string_view payload) -> std::string {
                         fail_status(Code::NotFound, "no such container {}", payload);
                       });
    server->add_method(kService, "Throw", [](const Context&, std::string_view) -> std::string {
      throw std::runtime_error("boom");
    });
    server->add_method(kService, "Errno", [](const Context&, std::string_view) -> std::string {
      throw Error("open bundle: No such file or directory", ENOENT);
    });
    server->add_method(kService, "Context", [](const Context& c, std::string_view) {
      return fmt::format("{} {} deadline={} a={} b={}", c.service, c.method, c.deadline.has_value(),
                         c.metadata_value("A").value_or("-"), c.metadata_value("b").value_or("-"));
    });
    server->add_method(kService, "Sleep", [](const Context&, std::string_view payload) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(std::string(payload))));
      return std::string(payload);
    });
    // Blocks until released or its stop token fires, like Task.Wait.
    server->add_method(kService, "Block", [this](const Context& c, std::string_view) {
      ++blocked;
      std::unique_lock lock(mu);
      cv.wait(lock, c.stop, [&] { return released; });
      return std::string(released ? "released" : "stopped");
    });
    server->add_method(kService, "Big", [](const Context&, std::string_view) {
      return std::string(kMaxMessageSize + 10, 'b');
    });
    server->listen(socket);
  }

  std::unique_ptr<Client> client() { return Client::connect(socket.string()); }

  // A raw connection and the frames the server answers on it.
  UniqueFd raw() { return connect_unix(socket); }

  void release() {
    std::lock_guard lock(mu);
    released = true;
    cv.notify_all();
  }

  // Polls, for conditions another thread brings about.
  static bool eventually(const std::function<bool()>& fn) {
    for (int i = 0; i < 500; ++i) {
      if (fn()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  TempDir dir{"ttrpc-test"};
  std::filesystem::path socket = dir.path() / "ttrpc.sock";
  std::unique_ptr<Server> server;

  std::mutex mu;
  std::condition_variable_any cv;  // waits on stop tokens too
  bool released = false;
  std::atomic<int> blocked{0};
};

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

// --- Raw peers -------------------------------------------------------------

std::string request_bytes(const std::string& service, const std::string& method,
                          const std::string& payload) {
  wire::Request r;
  r.set_service(service);
  r.set_method(method);
  r.set_payload(payload);
  return r.SerializeAsString();
}

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

// --- Client against raw servers ------------------------------------------

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
