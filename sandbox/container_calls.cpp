#include "sandbox/container_calls.h"

namespace vmrt::sandbox {
namespace {

template <typename Request>
Request for_container(const std::string& id) {
  Request req;
  req.set_container_id(id);
  return req;
}

template <typename Request>
Request for_process(const ProcessRef& p) {
  Request req;
  req.set_container_id(p.container_id);
  req.set_exec_id(p.exec_id);
  return req;
}

v1::ExecProcessRequest exec_request(const ProcessRef& p, const std::string& process_json,
                                    ContainerStdio stdio) {
  auto req = for_process<v1::ExecProcessRequest>(p);
  req.set_oci_process_json(process_json);
  req.mutable_stdio()->set_terminal(stdio.terminal);
  req.mutable_stdio()->set_open_stdin(stdio.open_stdin);
  return req;
}

}  // namespace

void ContainerCalls::start(const std::string& id) {
  agent_.start_container(for_container<v1::StartContainerRequest>(id));
}

void ContainerCalls::exec(const ProcessRef& p, const std::string& process_json,
                          ContainerStdio stdio) {
  agent_.exec_process(exec_request(p, process_json, stdio));
}

void ContainerCalls::signal(const ProcessRef& p, int sig, bool all,
                            std::chrono::milliseconds timeout) {
  auto req = for_process<v1::SignalProcessRequest>(p);
  req.set_signal(sig);
  req.set_all(all);
  agent_.signal_process(req, {timeout});
}

void ContainerCalls::pause(const std::string& id) {
  agent_.pause_container(for_container<v1::PauseContainerRequest>(id));
}

void ContainerCalls::resume(const std::string& id) {
  agent_.resume_container(for_container<v1::ResumeContainerRequest>(id));
}

void ContainerCalls::update(const std::string& id, const std::string& resources_json) {
  auto req = for_container<v1::UpdateContainerRequest>(id);
  req.set_resources_json(resources_json);
  agent_.update_container(req);
}

v1::StatsContainerResponse ContainerCalls::stats(const std::string& id) {
  return agent_.stats_container(for_container<v1::StatsContainerRequest>(id));
}

std::vector<uint32_t> ContainerCalls::pids(const std::string& id) {
  auto r = agent_.list_processes(for_container<v1::ListProcessesRequest>(id));
  return {r.pids().begin(), r.pids().end()};
}

void ContainerCalls::resize(const ProcessRef& p, uint32_t rows, uint32_t cols,
                            std::chrono::milliseconds timeout) {
  auto req = for_process<v1::ResizeTerminalRequest>(p);
  req.set_rows(rows);
  req.set_cols(cols);
  agent_.resize_terminal(req, {timeout});
}

uint32_t online_cpus(AgentClient& agent, uint32_t count, std::optional<uint32_t> agent_api_version,
                     CallOptions options) {
  if (!agent_api_version)
    agent_api_version =
        agent.health(v1::HealthRequest{}, {options.timeout, options.cancel}).api_version();
  // An older agent would answer UNIMPLEMENTED, which says nothing of why.
  if (*agent_api_version < kAgentApiOnlineCpus)
    fail(
        "the guest agent (api_version {}) cannot bring CPUs online or offline: api_version {} "
        "needed; the VM's image is older than vCPU hotplug",
        *agent_api_version, kAgentApiOnlineCpus);
  v1::OnlineCpusRequest req;
  req.set_count(count);
  return agent.online_cpus(req, std::move(options)).online();
}

void exec_in_guest(AgentClient& agent, const ProcessRef& p, const std::string& process_json,
                   ContainerStdio stdio, std::optional<uint32_t> agent_api_version) {
  if (!agent_api_version) agent_api_version = agent.health(v1::HealthRequest{}).api_version();
  // An older agent would take the request for a plain exec and run the
  // shell inside the container.
  if (*agent_api_version < kAgentApiDebugConsole)
    fail(
        "the guest agent (api_version {}) has no debug console: api_version {} needed; the VM's "
        "image is older than the debug console",
        *agent_api_version, kAgentApiDebugConsole);
  auto req = exec_request(p, process_json, stdio);
  req.set_guest(true);
  agent.exec_process(req);
}

}  // namespace vmrt::sandbox
