// online_cpus against an agent played by the test over a socket pair: it
// refuses an agent too old for OnlineCpus before calling it, and passes
// the count and the answer through on a recent one.
#include "sandbox/container_calls.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>

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
    auto pair = ttrpc::test::socket_pair();
    server.serve_connection(std::move(pair.a));
    client.emplace(std::move(pair.b));
  }
  ttrpc::Server server;
  std::optional<AgentClient> client;
  std::atomic<int> health_calls{0};
  std::atomic<uint32_t> asked{0};
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

}  // namespace
}  // namespace vmrt::sandbox
