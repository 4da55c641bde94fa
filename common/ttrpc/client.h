#pragma once
// ttrpc client over one Unix stream connection: the shim's events to
// containerd (TTRPC_ADDRESS) and the tests' side of the server. Calls from
// any number of threads share the connection; each gets the next odd stream
// id, and a reader thread hands every response to the call waiting for it.

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>

#include "common/fd.h"
#include "common/ttrpc/server.h"  // Metadata
#include "common/ttrpc/status.h"

namespace vmrt::ttrpc {

struct CallOptions {
  // Sent as the request's timeout_nano and enforced here: the call gives up
  // with DEADLINE_EXCEEDED when it passes. Zero means no deadline.
  std::chrono::nanoseconds timeout{0};
  Metadata metadata;
  // Requesting a stop ends the wait with CANCELLED. ttrpc cannot tell the
  // server: its handler runs on, and its answer is dropped when it comes.
  std::stop_token cancel;
};

class Client {
 public:
  explicit Client(UniqueFd connection);
  // Connects to "PATH" or "unix://PATH" (containerd writes addresses both
  // ways). Throws vmrt::Error naming the address.
  static std::unique_ptr<Client> connect(std::string_view address);
  // Fails calls still waiting with UNAVAILABLE, joins the reader and waits
  // for those calls to return. No call may start once destruction has.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Returns the response payload. Throws StatusError: the server's status
  // when it is not OK; DEADLINE_EXCEEDED when options.timeout passes;
  // UNAVAILABLE when the connection is or becomes closed; RESOURCE_EXHAUSTED
  // for a request over the message size limit; CANCELLED when
  // options.cancel is requested first.
  std::string call(const std::string& service, const std::string& method, std::string_view payload,
                   const CallOptions& options = {});

  // False once the connection has closed (server gone, protocol error).
  bool connected();

 private:
  struct Pending;
  void read_loop();
  void fail_all(const std::string& reason);

  UniqueFd fd_;
  std::mutex write_mu_;

  std::mutex mu_;
  uint32_t next_stream_id_ = 1;
  std::map<uint32_t, Pending*> pending_;
  std::optional<std::string> closed_;  // why the connection is unusable
  size_t calls_ = 0;                   // threads inside call()
  std::condition_variable idle_;       // calls_ dropped to 0

  std::thread reader_;
};

}  // namespace vmrt::ttrpc
