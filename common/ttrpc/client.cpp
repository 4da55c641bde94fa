#include "common/ttrpc/client.h"

#include <sys/socket.h>

#include "common/fd_io.h"
#include "common/log.h"
#include "common/ttrpc/frame.h"
#include "common/unix_socket.h"

namespace vmrt::ttrpc {

// One call waiting for its response, on the caller's stack; guarded by mu_.
struct Client::Pending {
  std::condition_variable_any cv;  // _any: waits on a stop token too
  bool done = false;
  std::optional<std::string> failure;  // the connection closed first
  wire::Response response;
  // When the reader took the answer: one that came after the deadline is a
  // timeout even if this caller's thread only woke later to see it.
  std::chrono::steady_clock::time_point arrived;
};

Client::Client(UniqueFd connection) : fd_(std::move(connection)) {
  reader_ = std::thread([this] { read_loop(); });
}

std::unique_ptr<Client> Client::connect(std::string_view address) {
  if (address.starts_with("unix://")) address.remove_prefix(7);
  return std::make_unique<Client>(connect_unix(std::string(address)));
}

Client::~Client() {
  {
    std::lock_guard lock(mu_);
    if (!closed_) closed_ = "the client closed the connection";
  }
  // Ends the reader's read(); it then fails whatever still waits.
  ::shutdown(fd_.get(), SHUT_RDWR);
  reader_.join();
  // Failed calls still have to wake up and leave mu_ behind.
  std::unique_lock lock(mu_);
  idle_.wait(lock, [&] { return calls_ == 0; });
}

bool Client::connected() {
  std::lock_guard lock(mu_);
  return !closed_;
}

std::string Client::call(const std::string& service, const std::string& method,
                         std::string_view payload, const CallOptions& options) {
  // Cancelled already: nothing goes on the wire. (The wait below would
  // report a quick answer that came before it looked at the token.)
  if (options.cancel.stop_requested())
    fail_status(Code::Cancelled, "ttrpc call {}/{} cancelled", service, method);
  wire::Request request;
  request.set_service(service);
  request.set_method(method);
  request.set_payload(std::string(payload));
  request.set_timeout_nano(options.timeout.count());
  for (const auto& [key, value] : options.metadata) {
    auto* kv = request.add_metadata();
    kv->set_key(key);
    kv->set_value(value);
  }
  auto deadline = std::chrono::steady_clock::now() + options.timeout;

  Pending pending;
  uint32_t stream_id;
  {
    std::lock_guard lock(mu_);
    if (closed_) fail_status(Code::Unavailable, "ttrpc connection closed: {}", *closed_);
    stream_id = next_stream_id_;
    next_stream_id_ += 2;  // client streams are odd; wraps to 1 after 2^32
    pending_[stream_id] = &pending;
    ++calls_;
  }
  struct Leave {
    Client* client;
    ~Leave() {
      std::lock_guard lock(client->mu_);
      // Notified under the lock: the destructor may free idle_ right after.
      if (--client->calls_ == 0) client->idle_.notify_all();
    }
  } leave{this};
  auto forget = [&] {
    std::lock_guard lock(mu_);
    pending_.erase(stream_id);
  };

  std::string frame;
  try {
    frame = encode_frame(stream_id, MessageType::Request, request.SerializeAsString());
  } catch (const FrameError& e) {
    forget();
    throw StatusError(Code::ResourceExhausted, e.what());
  }
  try {
    std::lock_guard lock(write_mu_);
    write_all(fd_.get(), frame);
  } catch (const Error& e) {
    forget();
    // Part of a frame may be on the wire: the connection is out of step.
    ::shutdown(fd_.get(), SHUT_RDWR);
    fail_status(Code::Unavailable, "ttrpc connection closed: {}", e.what());
  }

  std::unique_lock lock(mu_);
  // (Unlocked before `leave` runs: destroyed in reverse order.)
  std::stop_token cancel = options.cancel;
  bool done = options.timeout.count() > 0
                  ? pending.cv.wait_until(lock, cancel, deadline, [&] { return pending.done; })
                  : pending.cv.wait(lock, cancel, [&] { return pending.done; });
  bool late = done && !pending.failure && options.timeout.count() > 0 && pending.arrived > deadline;
  if (!done || late) {
    pending_.erase(stream_id);  // a late response is dropped by the reader
    if (cancel.stop_requested())
      fail_status(Code::Cancelled, "ttrpc call {}/{} cancelled", service, method);
    fail_status(Code::DeadlineExceeded, "ttrpc call {}/{} exceeded its deadline of {} ms", service,
                method,
                std::chrono::duration_cast<std::chrono::milliseconds>(options.timeout).count());
  }
  if (pending.failure)
    fail_status(Code::Unavailable, "ttrpc connection closed: {}", *pending.failure);
  const wire::Response& response = pending.response;
  if (response.has_status() && response.status().code() != 0)
    throw StatusError(static_cast<Code>(response.status().code()), response.status().message());
  return std::move(*pending.response.mutable_payload());
}

void Client::read_loop() {
  std::string reason;
  for (;;) {
    std::optional<Frame> frame;
    wire::Response response;
    try {
      frame = read_frame(fd_.get(), MessageType::Response);
      if (!frame) {
        reason = "the server closed the connection";
        break;
      }
      response = parse_response(frame->payload);
    } catch (const Error& e) {
      reason = e.what();
      break;
    }
    std::lock_guard lock(mu_);
    auto it = pending_.find(frame->header.stream_id);
    if (it == pending_.end()) {
      // Its caller gave up at the deadline.
      spdlog::debug("ttrpc: dropping a response for stream {}", frame->header.stream_id);
      continue;
    }
    it->second->response = std::move(response);
    it->second->arrived = std::chrono::steady_clock::now();
    it->second->done = true;
    it->second->cv.notify_one();
    pending_.erase(it);
  }
  fail_all(reason);
}

void Client::fail_all(const std::string& reason) {
  std::lock_guard lock(mu_);
  if (!closed_) closed_ = reason;
  for (auto& [id, pending] : pending_) {
    pending->failure = *closed_;
    pending->done = true;
    pending->cv.notify_one();
  }
  pending_.clear();
  // Later writes fail at once rather than reach a half-read stream.
  ::shutdown(fd_.get(), SHUT_RDWR);
}

}  // namespace vmrt::ttrpc
