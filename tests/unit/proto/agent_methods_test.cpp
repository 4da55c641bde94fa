// proto/agent_methods.h lists the agent's methods for registration and
// calls; the service in agent.proto is the truth it must match. The code
// generated from it is lite (no descriptors), so the test reads the
// descriptor set protoc wrote for it at build time, with the full libprotobuf.
#include "proto/agent_methods.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <string>
#include <vector>

namespace vmrt::agent {
namespace {

namespace pb = google::protobuf;

TEST(AgentMethods, ListMatchesTheProtoService) {
  std::ifstream in(VMRT_AGENT_DESCRIPTOR_SET, std::ios::binary);
  pb::FileDescriptorSet set;
  ASSERT_TRUE(set.ParseFromIstream(&in)) << VMRT_AGENT_DESCRIPTOR_SET;
  pb::DescriptorPool pool;
  for (const auto& file : set.file()) ASSERT_NE(pool.BuildFile(file), nullptr) << file.name();
  const auto* service = pool.FindServiceByName(kAgentService);
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
#define VMRT_AGENT_NAME(Name, ...) #Name,
  std::vector<std::string> listed = {VMRT_AGENT_METHODS(VMRT_AGENT_NAME)};
#undef VMRT_AGENT_NAME
  EXPECT_EQ(listed, proto);
}

// X(Name, name): the C++ name is the rpc's in snake case, so that a reader
// finds AgentClient::start_container from StartContainer and back.
TEST(AgentMethods, EachCxxNameIsTheRpcNameInSnakeCase) {
  auto snake = [](const std::string& camel) {
    std::string s;
    for (char c : camel) {
      if (std::isupper(static_cast<unsigned char>(c))) {
        if (!s.empty()) s += '_';
        s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      } else {
        s += c;
      }
    }
    return s;
  };
#define VMRT_AGENT_PAIR(Name, name) EXPECT_EQ(snake(#Name), #name);
  VMRT_AGENT_METHODS(VMRT_AGENT_PAIR)
#undef VMRT_AGENT_PAIR
}

}  // namespace
}  // namespace vmrt::agent
