// The output side of IoRelay against an agent played by the test over a
// socket pair: output is asked for without a deadline (a call given up on
// would drop the output the agent already took out of the pipe), and the
// relay's end still ends a call the agent holds.
#include "sandbox/io_relay.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

#include "common/fd.h"
#include "common/ttrpc/server.h"
#include "common/ttrpc/typed.h"
#include "tests/unit/common/ttrpc/socket_pair.h"

namespace vmrt::sandbox {
namespace {

using namespace std::chrono_literals;

// Stdout says "ok\n" once and ends; stderr ends at once, or, with
// `hold_stderr`, holds its first call until the test releases it.
struct FakeAgent {
  explicit FakeAgent(bool hold_stderr = false) {
    ttrpc::add_typed_method<v1::ReadOutputRequest, v1::ReadOutputResponse>(
        server, agent::kAgentService, "ReadOutput",
        [this, hold_stderr](const ttrpc::Context& ctx, const v1::ReadOutputRequest& req) {
          ++calls;
          if (ctx.deadline) ++calls_with_deadline;
          v1::ReadOutputResponse r;
          if (req.stream() == v1::STDOUT && !said_ok.exchange(true)) {
            r.set_data("ok\n");
            return r;
          }
          if (req.stream() == v1::STDERR && hold_stderr) {
            std::unique_lock lock(mu);
            held = true;
            changed.notify_all();
            if (!changed.wait_for(lock, 20s, [this] { return released; })) held_to_the_end = true;
          }
          r.set_eof(true);
          return r;
        });
    auto pair = ttrpc::test::socket_pair();
    server.serve_connection(std::move(pair.a));
    client.emplace(std::move(pair.b));
  }
  void release() {
    std::lock_guard lock(mu);
    released = true;
    changed.notify_all();
  }
  bool wait_held() {
    std::unique_lock lock(mu);
    return changed.wait_for(lock, 10s, [this] { return held; });
  }
  ttrpc::Server server;
  std::optional<AgentClient> client;
  std::atomic<int> calls{0}, calls_with_deadline{0};
  std::atomic<bool> said_ok{false};
  std::mutex mu;
  std::condition_variable changed;
  bool held = false, released = false;
  std::atomic<bool> held_to_the_end{false};  // nothing ended the held call for 20 s
};

struct Pipe {
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
  }
  std::string drain() {
    write_end.reset();
    std::string out;
    char buf[256];
    for (ssize_t n; (n = ::read(read_end.get(), buf, sizeof buf)) > 0;) out.append(buf, n);
    return out;
  }
  UniqueFd read_end, write_end;
};

TEST(IoRelay, OutputIsAskedForWithoutADeadline) {
  FakeAgent agent;
  Pipe out;
  {
    IoRelay relay(*agent.client, "c1", "", {-1, out.write_end.get(), -1});
    ASSERT_TRUE(relay.wait_outputs(10s));
  }
  EXPECT_EQ(out.drain(), "ok\n");
  EXPECT_GE(agent.calls.load(), 3);  // stdout's data and end, stderr's end
  EXPECT_EQ(agent.calls_with_deadline.load(), 0);
}

TEST(IoRelay, ItsEndEndsACallTheAgentHolds) {
  FakeAgent agent(/*hold_stderr=*/true);
  Pipe out;
  {
    IoRelay relay(*agent.client, "c1", "", {-1, out.write_end.get(), -1});
    ASSERT_TRUE(agent.wait_held());
    EXPECT_FALSE(relay.wait_outputs(100ms));  // stderr is still open
  }  // the destructor cancels the held call and joins its thread
  // Had the destructor waited for the agent's answer, the agent would have
  // held the call to its end first.
  EXPECT_FALSE(agent.held_to_the_end.load());
  agent.release();
  EXPECT_EQ(out.drain(), "ok\n");
}

}  // namespace
}  // namespace vmrt::sandbox
