#pragma once
// ttrpc server: (service, method) -> handler, served on Unix stream sockets.
// The shim registers containerd's Task service here and serves the socket it
// was started with. Each connection has a reader thread; each request runs
// on a thread of its own (bounded per connection), because some calls
// (Task.Wait) block for as long as a container runs and must not hold up the
// others. Responses are written whole under one lock per connection.

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/event_loop.h"
#include "common/fd.h"
#include "common/ttrpc/status.h"

namespace vmrt::ttrpc {

// Request metadata in the order it arrived; a key may repeat.
using Metadata = std::vector<std::pair<std::string, std::string>>;

// What a handler knows about its call besides the payload.
struct Context {
  std::string service;
  std::string method;
  uint32_t stream_id = 0;
  // From the request's timeout_nano, taken relative to its arrival.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  Metadata metadata;
  // Requested when the connection ends or the server stops waiting for
  // handlers at shutdown: a handler that blocks must wake up on it.
  std::stop_token stop;

  // The first value for `key`, compared ignoring ASCII case (Go's ttrpc
  // lower-cases keys).
  std::optional<std::string> metadata_value(std::string_view key) const;
  bool expired() const;
};

// Returns the response payload, or throws StatusError to answer with a
// status. Any other exception answers UNKNOWN with its message (a
// vmrt::Error with ENOENT, EEXIST, EPERM/EACCES or EINVAL maps to the
// matching code, as Go's ttrpc does for os errors).
using Handler = std::function<std::string(const Context& context, std::string_view payload)>;

struct ServerOptions {
  // Handlers running at once for one connection. Further requests stay unread
  // in the socket until one finishes, which pushes back on the client.
  size_t max_in_flight_per_connection = 256;
  // How long shutdown() lets running handlers finish and answer before it
  // requests their stop tokens and closes the connections.
  std::chrono::milliseconds shutdown_grace{5000};
  // Accept only peers running as our effective uid (SO_PEERCRED), as
  // containerd's shims do on their sockets.
  bool require_same_user = false;
};

class Server {
 public:
  explicit Server(ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Throws vmrt::Error when the pair is registered already.
  void add_method(const std::string& service, const std::string& method, Handler handler);

  // Accepts connections on a listening socket (inherited from the parent, or
  // from listen_unix) on a thread of its own. The fd is made non-blocking.
  void start(UniqueFd listener);
  // listen_unix(path), then start().
  void listen(const std::filesystem::path& path);
  // Serves one already connected socket.
  void serve_connection(UniqueFd connection);

  // Stops accepting, stops reading requests, waits up to shutdown_grace for
  // running handlers and their responses, then requests the stop tokens of
  // those still running, closes every connection and joins every thread.
  // Idempotent; the destructor calls it.
  void shutdown();

  // Connections still open (for tests and the shim's idle checks).
  size_t connection_count();

 private:
  struct Connection;

  void accept_one(int listener);
  void reap_finished_locked();
  void read_loop(Connection& connection);
  void run_handler(Connection& connection, std::shared_ptr<const Handler> handler, Context context,
                   std::string payload);
  std::shared_ptr<const Handler> find(const std::string& service, const std::string& method,
                                      std::string* error);

  ServerOptions options_;

  std::mutex methods_mu_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const Handler>> methods_;

  std::mutex mu_;
  bool stopping_ = false;
  std::list<std::unique_ptr<Connection>> connections_;
  UniqueFd listener_;
  std::optional<EventLoop> accept_loop_;  // on a thread of its own once started
};

}  // namespace vmrt::ttrpc
