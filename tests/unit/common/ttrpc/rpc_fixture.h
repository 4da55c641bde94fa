#pragma once
// The ttrpc tests' fixture: a server on a Unix socket with echo, failing,
// slow and blocking methods, clients of it, and raw connections to it.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/tempdir.h"
#include "common/ttrpc/client.h"
#include "common/ttrpc/frame.h"
#include "common/ttrpc/server.h"
#include "common/unix_socket.h"

namespace vmrt::ttrpc::rpc_test {

using namespace std::chrono_literals;

inline constexpr const char* kService = "vmrt.test.Echo";

inline Code code_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const StatusError& e) {
    return e.status_code();
  }
  return Code::Ok;
}

inline std::string message_of(const std::function<void()>& fn) {
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

inline std::string request_bytes(const std::string& service, const std::string& method,
                                 const std::string& payload) {
  wire::Request r;
  r.set_service(service);
  r.set_method(method);
  r.set_payload(payload);
  return r.SerializeAsString();
}

}  // namespace vmrt::ttrpc::rpc_test
