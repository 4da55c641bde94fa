// The /metrics endpoint over real TCP on 127.0.0.1: the page, the refusals,
// and requests meant to break it (malformed, oversized, never finished),
// after which it still serves.

#include "monitor/http_server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

#include "common/error.h"
#include "common/fd_io.h"

namespace vmrt::monitor {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

UniqueFd connect_local(uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  check_sys(::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), "connect");
  return fd;
}

// Sends `request` and reads the response until the server closes.
std::string exchange_on(uint16_t port, const std::string& request) {
  UniqueFd fd = connect_local(port);
  ::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

class Http : public ::testing::Test {
 protected:
  UniqueFd connect_to_server() { return connect_local(server_.port()); }
  std::string exchange(const std::string& request) { return exchange_on(server_.port(), request); }

  std::atomic<int> scrapes_{0};
  HttpServer server_{listen_tcp("127.0.0.1:0"), [this] {
                       ++scrapes_;
                       return std::string("# TYPE up gauge\nup 1\n");
                     }};
};

TEST_F(Http, ServesMetrics) {
  std::string r = exchange("GET /metrics HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n");
  EXPECT_THAT(r, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(r, HasSubstr("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
  EXPECT_THAT(r, HasSubstr("Content-Length: 21\r\n"));
  EXPECT_THAT(r, HasSubstr("\r\n\r\n# TYPE up gauge\nup 1\n"));
  // A query string (Prometheus sends none, curl users might) is ignored.
  EXPECT_THAT(exchange("GET /metrics?x=1 HTTP/1.0\r\n\r\n"), StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_EQ(scrapes_, 2);
}

TEST_F(Http, RefusesOtherPathsAndMethods) {
  EXPECT_THAT(exchange("GET / HTTP/1.1\r\n\r\n"), StartsWith("HTTP/1.1 404 Not Found\r\n"));
  EXPECT_THAT(exchange("GET /metricsx HTTP/1.1\r\n\r\n"), StartsWith("HTTP/1.1 404 "));
  std::string r = exchange("POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_THAT(r, StartsWith("HTTP/1.1 405 Method Not Allowed\r\n"));
  EXPECT_THAT(r, HasSubstr("Allow: GET\r\n"));
  EXPECT_THAT(exchange("HEAD /metrics HTTP/1.1\r\n\r\n"), StartsWith("HTTP/1.1 405 "));
  EXPECT_EQ(scrapes_, 0);
}

TEST_F(Http, SurvivesMalformedRequests) {
  for (const char* bad :
       {"garbage\r\n\r\n", "GET /metrics\r\n\r\n", "GET  /metrics HTTP/1.1\r\n\r\n",
        "GET /metrics HTTP/2.0\r\n\r\n", "GET /metrics HTTP/1.1 x\r\n\r\n",
        "G(T /metrics HTTP/1.1\r\n\r\n", "GET /met\x01rics HTTP/1.1\r\n\r\n", "\r\n\r\n"})
    EXPECT_THAT(exchange(bad), StartsWith("HTTP/1.1 400 Bad Request\r\n")) << bad;
  // NUL bytes in the head.
  EXPECT_THAT(exchange(std::string("GET /metrics\0 HTTP/1.1\r\n\r\n", 27)),
              StartsWith("HTTP/1.1 400 "));
  // A head without end, larger than the bound: refused, not stored.
  EXPECT_THAT(exchange("GET /metrics HTTP/1.1\r\nX: " + std::string(100000, 'a')),
              StartsWith("HTTP/1.1 431 "));
  // A client that connects and goes away, or sends half a request and goes.
  { UniqueFd gone = connect_to_server(); }
  {
    UniqueFd half = connect_to_server();
    write_all(half.get(), std::string_view("GET /met"));
  }
  // Still serving.
  EXPECT_THAT(exchange("GET /metrics HTTP/1.1\r\n\r\n"), StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_EQ(scrapes_, 1);
}

TEST_F(Http, SlowClientsDoNotBlockOthers) {
  // Fewer silent clients than workers hold only their own worker.
  UniqueFd slow1 = connect_to_server();
  UniqueFd slow2 = connect_to_server();
  write_all(slow1.get(), std::string_view("GET /metrics HTTP/1.1\r\n"));
  EXPECT_THAT(exchange("GET /metrics HTTP/1.1\r\n\r\n"), StartsWith("HTTP/1.1 200 OK\r\n"));
}

TEST(HttpFailure, AFailedScrapeIsA500AndTheServerGoesOn) {
  std::atomic<int> calls{0};
  HttpServer server(listen_tcp("127.0.0.1:0"), [&calls]() -> std::string {
    if (calls++ == 0) throw Error("no memory");
    return "up 1\n";
  });
  auto get = [&server] { return exchange_on(server.port(), "GET /metrics HTTP/1.1\r\n\r\n"); };
  EXPECT_THAT(get(), StartsWith("HTTP/1.1 500 Internal Server Error\r\n"));
  EXPECT_THAT(get(), StartsWith("HTTP/1.1 200 OK\r\n"));
}

TEST(HttpParts, AnswersWithoutIo) {
  auto page = [] { return std::string("x 1\n"); };
  EXPECT_EQ(answer_request("GET /metrics HTTP/1.1\r\n", page).status, 200);
  EXPECT_EQ(answer_request("GET /metrics HTTP/1.1\r\n", page).body, "x 1\n");
  EXPECT_EQ(answer_request("PUT /metrics HTTP/1.1\r\n", page).status, 405);
  EXPECT_EQ(answer_request("PUT /other HTTP/1.1\r\n", page).status, 404);
  EXPECT_EQ(answer_request("", page).status, 400);
  EXPECT_EQ(render_response({404, "text/plain", "no\n"}),
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
            "Connection: close\r\n\r\nno\n");
}

TEST(HttpParts, ParsesListenAddresses) {
  EXPECT_NE(listen_tcp("127.0.0.1:0").get(), -1);
  for (const char* bad : {"127.0.0.1", ":80", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
                          "localhost:80", "[::1:80", "::1:80", "1.2.3.4.5:80", "127.0.0.1:8x"})
    EXPECT_THROW(listen_tcp(bad), Error) << bad;
}

}  // namespace
}  // namespace vmrt::monitor
