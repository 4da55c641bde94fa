// online_cpus and exec_in_guest against an agent played by the test over a
// socket pair: each refuses an agent too old for its call before calling
// it, and passes the request through to a recent one.
#include "sandbox/container_calls.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "common/ttrpc/server.h"
#include "common/ttrpc/typed.h"
#include "tests/unit/common/ttrpc/socket_pair.h"

namespace vmrt::sandbox {
namespace {

// An agent answering Health with `api_version` and OnlineCpus with the
// count asked for, out of 8 present.
struct FakeAgent {
  explicit FakeAgent(uint32_t api_version) {
    ttrpc::add_typed_method<v1::HealthRequest, v1::HealthResponse>(
        server, agent::kAgentService, "Health", [this, api_version](auto&, auto&) {
          ++health_calls;
          v1::HealthResponse r;
          r.set_status(v1::HealthResponse::SERVING);
          r.set_api_version(api_version);
          return r;
        });
    ttrpc::add_typed_method<v1::OnlineCpusRequest, v1::OnlineCpusResponse>(
        server, agent::kAgentService, "OnlineCpus",
        [this](auto&, const v1::OnlineCpusRequest& req) {
          asked = req.count();
          v1::OnlineCpusResponse r;
          r.set_online(req.count());
          r.set_present(8);
          return r;
        });
    ttrpc::add_typed_method<v1::ExecProcessRequest, v1::ExecProcessResponse>(
        server, agent::kAgentService, "ExecProcess",
        [this](auto&, const v1::ExecProcessRequest& req) {
          std::lock_guard lock(mu);
          execs.push_back(req);
          return v1::ExecProcessResponse{};
        });
    auto pair = ttrpc::test::socket_pair();
    server.serve_connection(std::move(pair.a));
    client.emplace(std::move(pair.b));
  }
  ttrpc::Server server;
  std::optional<AgentClient> client;
  std::atomic<int> health_calls{0};
  std::atomic<uint32_t> asked{0};
  std::mutex mu;
  std::vector<v1::ExecProcessRequest> execs;
};

TEST(OnlineCpus, AnAgentWithoutTheCallIsRefusedClearly) {
  FakeAgent agent(3);
  try {
    online_cpus(*agent.client, 2);
    FAIL() << "called an agent of api_version 3";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("api_version 3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("api_version 4 needed"), std::string::npos) << e.what();
  }
  EXPECT_EQ(agent.health_calls, 1);
  EXPECT_EQ(agent.asked, 0u) << "OnlineCpus was never called";
  // A version the caller knows already is not asked again.
  EXPECT_THROW(online_cpus(*agent.client, 2, 3), Error);
  EXPECT_EQ(agent.health_calls, 1);
}

TEST(OnlineCpus, PassesTheCountAndReturnsHowManyAreOnline) {
  FakeAgent agent(kAgentApiOnlineCpus);
  EXPECT_EQ(online_cpus(*agent.client, 3), 3u);
  EXPECT_EQ(agent.asked, 3u);
  EXPECT_EQ(online_cpus(*agent.client, 5, kAgentApiOnlineCpus), 5u);
  EXPECT_EQ(agent.asked, 5u);
  EXPECT_EQ(agent.health_calls, 1);
}

// An agent before the guest target would read the request as a plain exec
// and start the shell inside the container: it must never be sent one.
TEST(ExecInGuest, AnAgentWithoutTheGuestTargetIsRefusedClearly) {
  FakeAgent agent(kAgentApiDebugConsole - 1);
  try {
    exec_in_guest(*agent.client, {"c1", "e1"}, "{}", {true, true});
    FAIL() << "called an agent of api_version 4";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("api_version 5 needed"), std::string::npos) << e.what();
  }
  EXPECT_THROW(exec_in_guest(*agent.client, {"c1", "e1"}, "{}", {}, 4), Error);
  EXPECT_EQ(agent.health_calls, 1);
  std::lock_guard lock(agent.mu);
  EXPECT_TRUE(agent.execs.empty());
}

TEST(ExecInGuest, AsksForTheGuestTarget) {
  FakeAgent agent(kAgentApiDebugConsole);
  exec_in_guest(*agent.client, {"c1", "e1"}, R"({"args":["/bin/sh"]})", {true, true});
  ContainerCalls(*agent.client).exec({"c1", "e2"}, R"({"args":["ls"]})", {});
  std::lock_guard lock(agent.mu);
  ASSERT_EQ(agent.execs.size(), 2u);
  const auto& guest = agent.execs[0];
  EXPECT_TRUE(guest.guest());
  EXPECT_EQ(guest.container_id(), "c1");
  EXPECT_EQ(guest.exec_id(), "e1");
  EXPECT_EQ(guest.oci_process_json(), R"({"args":["/bin/sh"]})");
  EXPECT_TRUE(guest.stdio().terminal());
  EXPECT_TRUE(guest.stdio().open_stdin());
  EXPECT_FALSE(agent.execs[1].guest()) << "a container's exec stays in the container";
}

}  // namespace
}  // namespace vmrt::sandbox
