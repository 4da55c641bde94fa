#include "tools/vmrt/container_access.h"

#include <algorithm>

#include "common/error.h"

namespace vmrt::cli {

void require_status(const ContainerRecord& r, const char* verb,
                    std::initializer_list<Status> allowed) {
  Status s = effective_status(r);
  if (std::find(allowed.begin(), allowed.end(), s) == allowed.end())
    fail("cannot {} container {}: it is {}", verb, r.id, status_name(s));
}

sandbox::AgentClient connect_agent(const ContainerRecord& r) {
  try {
    return sandbox::AgentClient::connect(r.vm_socket);
  } catch (const Error& e) {
    fail("container {}: cannot reach its sandbox VM: {}", r.id, e.what());
  }
}

}  // namespace vmrt::cli
