#include "common/ttrpc/server.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <exception>

#include "common/fd_io.h"
#include "common/log.h"
#include "common/ttrpc/frame.h"
#include "common/unix_socket.h"

namespace vmrt::ttrpc {

namespace {

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// The status a handler's exception answers with.
wire::Status status_of(std::exception_ptr error) {
  wire::Status status;
  auto set = [&](Code code, const std::string& message) {
    status.set_code(static_cast<int32_t>(code));
    status.set_message(message);
  };
  try {
    std::rethrow_exception(error);
  } catch (const StatusError& e) {
    set(e.status_code(), e.message());
  } catch (const Error& e) {
    switch (e.code()) {
      case ENOENT:
        set(Code::NotFound, e.what());
        break;
      case EEXIST:
        set(Code::AlreadyExists, e.what());
        break;
      case EPERM:
      case EACCES:
        set(Code::PermissionDenied, e.what());
        break;
      case EINVAL:
        set(Code::InvalidArgument, e.what());
        break;
      default:
        set(Code::Unknown, e.what());
    }
  } catch (const std::exception& e) {
    set(Code::Unknown, e.what());
  } catch (...) {
    set(Code::Unknown, "handler threw a non-standard exception");
  }
  return status;
}

wire::Response status_response(Code code, const std::string& message) {
  wire::Response response;
  response.mutable_status()->set_code(static_cast<int32_t>(code));
  response.mutable_status()->set_message(message);
  return response;
}

bool peer_is_same_user(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return false;
  return cred.uid == ::geteuid();
}

}  // namespace

std::optional<std::string> Context::metadata_value(std::string_view key) const {
  for (const auto& [k, v] : metadata)
    if (equal_ignoring_case(k, key)) return v;
  return std::nullopt;
}

bool Context::expired() const { return deadline && std::chrono::steady_clock::now() >= *deadline; }

struct Server::Connection {
  explicit Connection(UniqueFd f) : fd(std::move(f)) {}

  // Writes one response frame whole. A failed write shuts the socket down,
  // which ends the reader too: the client cannot be answered any more.
  bool send(uint32_t stream_id, const wire::Response& response) {
    std::string bytes = response.SerializeAsString();
    if (bytes.size() > kMaxMessageSize)
      bytes = status_response(Code::ResourceExhausted,
                              fmt::format("response of {} bytes exceeds the maximum message size "
                                          "of {}",
                                          bytes.size(), kMaxMessageSize))
                  .SerializeAsString();
    std::string frame = encode_frame(stream_id, MessageType::Response, bytes);
    std::lock_guard lock(write_mu);
    try {
      write_all(fd.get(), frame);
      return true;
    } catch (const Error& e) {
      spdlog::debug("ttrpc: cannot answer stream {}: {}", stream_id, e.what());
      ::shutdown(fd.get(), SHUT_RDWR);
      return false;
    }
  }

  UniqueFd fd;
  std::mutex write_mu;
  std::stop_source stop;

  struct Worker {
    std::thread thread;
    bool done = false;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::list<Worker> workers;
  size_t running = 0;
  bool draining = false;
  std::chrono::steady_clock::time_point drain_deadline;

  std::atomic<bool> finished{false};
  std::thread reader;
};

Server::Server(ServerOptions options) : options_(options) {}

Server::~Server() { shutdown(); }

void Server::add_method(const std::string& service, const std::string& method, Handler handler) {
  std::lock_guard lock(methods_mu_);
  auto [it, added] = methods_.try_emplace({service, method}, nullptr);
  if (!added) fail("ttrpc method {}/{} is registered twice", service, method);
  it->second = std::make_shared<const Handler>(std::move(handler));
}

std::shared_ptr<const Handler> Server::find(const std::string& service, const std::string& method,
                                            std::string* error) {
  std::lock_guard lock(methods_mu_);
  if (auto it = methods_.find({service, method}); it != methods_.end()) return it->second;
  // Go's ttrpc words these two cases so; clients may show them to users.
  auto first = methods_.lower_bound({service, ""});
  bool service_known = first != methods_.end() && first->first.first == service;
  *error = service_known ? "method " + method : "service " + service;
  return nullptr;
}

void Server::start(UniqueFd listener) {
  std::lock_guard lock(mu_);
  if (stopping_) fail("ttrpc server is shut down");
  if (accept_loop_) fail("ttrpc server is already accepting connections");
  // Non-blocking: a connection that vanishes between the wake-up and accept
  // must not leave the accept loop blocked where shutdown cannot wake it.
  set_nonblocking(listener.get());
  listener_ = std::move(listener);
  accept_loop_.emplace("ttrpc");
  accept_loop_->add(listener_.get(), EPOLLIN,
                    [this, l = listener_.get()](uint32_t) { accept_one(l); });
  accept_loop_->start();
}

void Server::listen(const std::filesystem::path& path) { start(listen_unix(path)); }

void Server::accept_one(int listener) {
  UniqueFd connection;
  try {
    connection = accept_unix(listener);
  } catch (const Error& e) {
    if (e.code() == EAGAIN || e.code() == EWOULDBLOCK) return;
    spdlog::warn("ttrpc: {}", e.what());
    // Out of fds, most likely: let some close rather than spin.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return;
  }
  if (options_.require_same_user && !peer_is_same_user(connection.get())) {
    spdlog::warn("ttrpc: refused a connection from another user");
    return;
  }
  serve_connection(std::move(connection));
}

void Server::serve_connection(UniqueFd fd) {
  std::lock_guard lock(mu_);
  if (stopping_) return;  // closes fd
  reap_finished_locked();
  auto& connection = connections_.emplace_back(std::make_unique<Connection>(std::move(fd)));
  Connection* c = connection.get();
  c->reader = std::thread([this, c] { read_loop(*c); });
}

void Server::reap_finished_locked() {
  for (auto it = connections_.begin(); it != connections_.end();) {
    if ((*it)->finished) {
      (*it)->reader.join();
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

size_t Server::connection_count() {
  std::lock_guard lock(mu_);
  reap_finished_locked();
  return connections_.size();
}

void Server::read_loop(Connection& c) {
  auto answer = [&c](uint32_t stream_id, Code code, const std::string& message) {
    c.send(stream_id, status_response(code, message));
  };
  for (;;) {
    std::optional<Frame> frame;
    try {
      frame = read_frame(c.fd.get(), MessageType::Request);
    } catch (const FrameError& e) {
      // The claimed payload was not read, so the stream is out of step:
      // tell the client which call failed, then hang up.
      if (e.kind() == FrameError::Kind::Oversize)
        answer(e.header().stream_id, Code::ResourceExhausted, e.what());
      spdlog::warn("ttrpc: closing connection: {}", e.what());
      break;
    } catch (const Error& e) {
      spdlog::debug("ttrpc: connection ended: {}", e.what());
      break;
    }
    if (!frame) break;
    {
      std::lock_guard lock(c.mu);
      if (c.draining) break;  // shutting down: no new calls
    }
    uint32_t stream_id = frame->header.stream_id;
    wire::Request request;
    try {
      request = parse_request(frame->payload);
    } catch (const Error& e) {
      answer(stream_id, Code::InvalidArgument,
             fmt::format("unmarshal request error: {}", e.what()));
      spdlog::warn("ttrpc: closing connection: {}", e.what());
      break;
    }
    if (stream_id % 2 != 1) {
      answer(stream_id, Code::InvalidArgument, "StreamID must be odd for client initiated streams");
      continue;
    }
    std::string error;
    auto handler = find(request.service(), request.method(), &error);
    if (!handler) {
      answer(stream_id, Code::Unimplemented, error);
      continue;
    }

    Context context{.service = request.service(),
                    .method = request.method(),
                    .stream_id = stream_id,
                    .stop = c.stop.get_token()};
    if (request.timeout_nano() != 0)
      context.deadline =
          std::chrono::steady_clock::now() + std::chrono::nanoseconds(request.timeout_nano());
    for (const auto& kv : request.metadata()) context.metadata.emplace_back(kv.key(), kv.value());

    std::unique_lock lock(c.mu);
    c.cv.wait(lock,
              [&] { return c.running < options_.max_in_flight_per_connection || c.draining; });
    if (c.draining) break;
    for (auto it = c.workers.begin(); it != c.workers.end();) {
      if (it->done) {
        it->thread.join();
        it = c.workers.erase(it);
      } else {
        ++it;
      }
    }
    ++c.running;
    auto& worker = c.workers.emplace_back();
    // Started under c.mu, so the worker cannot mark itself done before its
    // thread object is in place.
    worker.thread =
        std::thread([this, &c, &worker, handler = std::move(handler), context = std::move(context),
                     payload = std::move(*request.mutable_payload())]() mutable {
          run_handler(c, std::move(handler), std::move(context), std::move(payload));
          std::lock_guard done_lock(c.mu);
          worker.done = true;
          --c.running;
          c.cv.notify_all();
        });
  }

  {
    std::unique_lock lock(c.mu);
    if (c.draining) c.cv.wait_until(lock, c.drain_deadline, [&] { return c.running == 0; });
  }
  // The client is gone or its time is up. Close first (which also wakes a
  // handler blocked writing to a client that does not read), then cancel
  // what still runs: a cancelled handler's answer must not reach the client
  // as if the call had succeeded.
  ::shutdown(c.fd.get(), SHUT_RDWR);
  c.stop.request_stop();
  std::list<Connection::Worker> workers;
  {
    std::lock_guard lock(c.mu);
    workers.splice(workers.end(), c.workers);
  }
  for (auto& w : workers) w.thread.join();
  c.finished = true;
}

void Server::run_handler(Connection& c, std::shared_ptr<const Handler> handler, Context context,
                         std::string payload) {
  wire::Response response;
  try {
    response.set_payload((*handler)(context, payload));
  } catch (...) {
    *response.mutable_status() = status_of(std::current_exception());
  }
  c.send(context.stream_id, response);
}

void Server::shutdown() {
  std::list<std::unique_ptr<Connection>> connections;
  EventLoop* accept_loop;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    accept_loop = accept_loop_ ? &*accept_loop_ : nullptr;
  }
  if (accept_loop) accept_loop->stop_and_join();
  {
    std::lock_guard lock(mu_);
    listener_.reset();
    auto deadline = std::chrono::steady_clock::now() + options_.shutdown_grace;
    for (auto& c : connections_) {
      std::lock_guard clock(c->mu);
      c->draining = true;
      c->drain_deadline = deadline;
      c->cv.notify_all();
      // Wakes the reader out of read(); answers can still be written.
      ::shutdown(c->fd.get(), SHUT_RD);
    }
    connections.splice(connections.end(), connections_);
  }
  for (auto& c : connections) c->reader.join();
}

}  // namespace vmrt::ttrpc
