#pragma once
// What most commands do first: find the container, check that its state
// allows the command, and reach its agent.

#include <initializer_list>
#include <string>

#include "sandbox/agent_client.h"
#include "sandbox/container_calls.h"
#include "tools/vmrt/state_store.h"

namespace vmrt::cli {

// Throws "cannot VERB container ID: it is STATUS" unless the container's
// effective status is one of `allowed`.
void require_status(const ContainerRecord& r, const char* verb,
                    std::initializer_list<Status> allowed);

// A connection to the agent of the container's VM.
sandbox::AgentClient connect_agent(const ContainerRecord& r);

// The calls on the container's VM, over a connection of their own.
struct ContainerAgent {
  explicit ContainerAgent(const ContainerRecord& r) : agent(connect_agent(r)), calls(agent) {}
  ContainerAgent(const ContainerAgent&) = delete;  // `calls` refers to `agent`
  ContainerAgent& operator=(const ContainerAgent&) = delete;

  sandbox::AgentClient agent;
  sandbox::ContainerCalls calls;
};

}  // namespace vmrt::cli
