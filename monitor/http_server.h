#pragma once
// The monitor's HTTP/1.1 endpoint: GET /metrics and nothing else (404 for
// another path, 405 for another method, 400 for a request it cannot
// parse, 431 for one larger than kMaxRequestHead). One request per
// connection, answered with Connection: close. Each request has
// kRequestTimeout to arrive and its answer as long to leave; a fixed number
// of worker threads serve connections, so that slow clients hold at most
// that many and the monitor's memory stays bounded whatever they send.

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/event_fd.h"
#include "common/fd.h"

namespace vmrt::monitor {

inline constexpr size_t kMaxRequestHead = 8192;
inline constexpr std::chrono::seconds kRequestTimeout{10};

// What a request line asks for, or why it is refused.
struct HttpAnswer {
  int status = 200;
  std::string content_type;
  std::string body;
};

// The answer for the request head `head` (request line and header lines, up
// to the blank line), `metrics` making the body of GET /metrics. Pure, for
// tests: no I/O.
HttpAnswer answer_request(std::string_view head, const std::function<std::string()>& metrics);
// The full response bytes for `a`, with Content-Length and Connection: close.
std::string render_response(const HttpAnswer& a);

// "ADDR:PORT" (IPv4) or "[ADDR]:PORT" (IPv6), port 0 picking a free one.
// Throws vmrt::Error for anything else.
UniqueFd listen_tcp(const std::string& address);

class HttpServer {
 public:
  // Serves on `listener` (listen_tcp's) with `workers` threads until the
  // server goes away. `metrics` runs on a worker thread, several at once.
  HttpServer(UniqueFd listener, std::function<std::string()> metrics, unsigned workers = 4);
  ~HttpServer();  // stops the workers and waits for them
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port listened on (the one picked for port 0).
  uint16_t port() const;

 private:
  void work();
  void serve(UniqueFd conn);

  UniqueFd listener_;
  std::function<std::string()> metrics_;
  UniqueFd stop_;  // an eventfd, signalled once to stop every worker
  std::vector<std::jthread> workers_;
};

}  // namespace vmrt::monitor
