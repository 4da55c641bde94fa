#pragma once
// The child's side of create() and exec(): the order in which the steps of
// each concern run between clone and execve.

#include <vector>

#include "agent/container/plan.h"
#include "agent/container/process.h"

namespace vmrt::agent {

struct InitContext {
  const ContainerPlan* plan;
  const std::vector<UniqueFd>* namespace_fds;
  const PreparedStdio* stdio;
  const ExecArgs* exec;
  int channel;
};

struct ExecContext {
  const ProcessPlan* plan;
  int init_pidfd;       // whose namespaces to join
  int init_root;        // O_PATH of the init's root (/proc/PID/root)
  int namespace_flags;  // CLONE_NEW* the container has of its own
  const PreparedStdio* stdio;
  const ExecArgs* exec;
  int channel;
};

// A process outside every container (start_outside_containers).
struct OutsideContext {
  const ProcessPlan* plan;
  const PreparedStdio* stdio;
  const ExecArgs* exec;
  int channel;
};

// clone_child entries; ctx is an InitContext / ExecContext / OutsideContext.
[[noreturn]] void container_init(const void* ctx);
[[noreturn]] void exec_child(const void* ctx);
[[noreturn]] void outside_child(const void* ctx);

}  // namespace vmrt::agent
