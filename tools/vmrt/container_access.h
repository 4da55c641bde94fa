#pragma once
// What most commands do first: find the container, check that its state
// allows the command, and reach its agent.

#include <initializer_list>
#include <string>

#include "sandbox/agent_client.h"
#include "tools/vmrt/state_store.h"

namespace vmrt::cli {

// Throws "cannot VERB container ID: it is STATUS" unless the container's
// effective status is one of `allowed`.
void require_status(const ContainerRecord& r, const char* verb,
                    std::initializer_list<Status> allowed);

// A connection to the agent of the container's VM.
sandbox::AgentClient connect_agent(const ContainerRecord& r);

}  // namespace vmrt::cli
