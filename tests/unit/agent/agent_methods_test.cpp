// proto/agent_methods.h lists the agent's methods for registration and
// calls; protoc's descriptor of agent.proto is the truth it must match.
#include "proto/agent_methods.h"

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proto/agent.pb.h"

namespace vmrt::agent {
namespace {

TEST(AgentMethods, ListMatchesTheProtoService) {
  const auto* service =
      v1::HealthRequest::descriptor()->file()->pool()->FindServiceByName(kAgentService);
  ASSERT_NE(service, nullptr);
  std::vector<std::string> proto;
  for (int i = 0; i < service->method_count(); ++i) {
    const auto* m = service->method(i);
    proto.push_back(m->name());
    // The list's X(Name) stands for NameRequest -> NameResponse, unary.
    EXPECT_EQ(m->input_type()->name(), m->name() + "Request");
    EXPECT_EQ(m->output_type()->name(), m->name() + "Response");
    EXPECT_FALSE(m->client_streaming() || m->server_streaming()) << m->name();
  }
#define VMRT_AGENT_NAME(Name) #Name,
  std::vector<std::string> listed = {VMRT_AGENT_METHODS(VMRT_AGENT_NAME)};
#undef VMRT_AGENT_NAME
  EXPECT_EQ(listed, proto);
}

}  // namespace
}  // namespace vmrt::agent
