#include "tests/root/agent/service/agent_service_client.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "common/ttrpc/typed.h"
#include "common/unix_socket.h"

namespace vmrt::agent::test {
namespace {

using nlohmann::json;

const std::vector<std::string> kDefaultCaps = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",     "CAP_MKNOD",
    "CAP_NET_RAW", "CAP_SETGID",       "CAP_SETUID",           "CAP_SETFCAP",    "CAP_SETPCAP",
    "CAP_KILL",    "CAP_SYS_CHROOT",   "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"};

}  // namespace

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

AgentStub::AgentStub(UniqueFd connection) : client_(std::move(connection)) {}

#define VMRT_TEST_AGENT_CALL(Name, ...)                                                           \
  CallStatus AgentStub::Name(std::chrono::milliseconds timeout, const v1::Name##Request& request, \
                             v1::Name##Response* response) {                                      \
    try {                                                                                         \
      *response = ttrpc::call_typed<v1::Name##Response>(client_, kAgentService, #Name, request,   \
                                                        {.timeout = timeout});                    \
      return {};                                                                                  \
    } catch (const ttrpc::StatusError& e) {                                                       \
      return {e.status_code(), e.message()};                                                      \
    }                                                                                             \
  }
VMRT_AGENT_METHODS(VMRT_TEST_AGENT_CALL)
#undef VMRT_TEST_AGENT_CALL

std::string read_all_output(AgentStub& stub, const std::string& id, v1::OutputStream stream,
                            const std::string& exec_id, std::chrono::milliseconds timeout) {
  v1::ReadOutputRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec_id);
  req.set_stream(stream);
  req.set_wait_ms(500);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string all;
  for (;;) {
    if (std::chrono::steady_clock::now() > deadline)
      fail("ReadOutput {}: no end of file within {} ms", id, timeout.count());
    v1::ReadOutputResponse chunk;
    CallStatus s = stub.ReadOutput(10s, req, &chunk);
    if (!s.ok()) fail("ReadOutput {}: {}", id, s.error_message());
    all += chunk.data();
    if (chunk.eof()) return all;
  }
}

std::filesystem::path AgentUnderTest::cgroup_root() {
  // A host with cgroups v1 keeps v2 at /sys/fs/cgroup/unified.
  if (std::filesystem::exists("/sys/fs/cgroup/unified/cgroup.procs"))
    return "/sys/fs/cgroup/unified";
  return "/sys/fs/cgroup";
}

AgentUnderTest::AgentUnderTest(const std::string& netns) : dir_("agent-test") {
  std::filesystem::create_directories(shared());
  std::string socket = (dir() / "agent.sock").string();
  SpawnOptions o;
  o.err = Stdio::inherit();
  std::vector<std::string> argv = {VMRT_AGENT_BIN,         "--listen",       "unix:" + socket,
                                   "--state-dir",          state().string(), "--cgroup-root",
                                   cgroup_root().string(), "--cpu-root",     cpus().string(),
                                   "--log-level",          "debug"};
  // nsenter execs the agent: the pid stays the agent's.
  if (!netns.empty()) argv.insert(argv.begin(), {"nsenter", "--net=" + netns, "--"});
  agent_.emplace(Subprocess::spawn(argv, o));
  for (int i = 0; i < 500 && !std::filesystem::exists(socket); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  for (int i = 0;; ++i) {
    try {
      stub_ = std::make_unique<AgentStub>(connect_unix(socket));
      break;
    } catch (const Error& e) {
      if (i == 500) fail("vmrt-agent did not accept a connection on {}: {}", socket, e.what());
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

AgentUnderTest::~AgentUnderTest() {
  if (agent_) stop();
}

ExitStatus AgentUnderTest::stop() {
  stub_.reset();
  agent_->kill(SIGTERM);
  auto status = agent_->wait_for(std::chrono::seconds(10));
  if (!status) {
    agent_->kill(SIGKILL);
    status = agent_->wait();
  }
  agent_.reset();
  return *status;
}

CallStatus AgentUnderTest::create_sandbox(const std::string& hostname) {
  v1::CreateSandboxRequest req;
  req.set_hostname(hostname);
  req.add_dns_servers("10.0.0.2");
  req.mutable_shared_fs()->set_mount_point(shared().string());
  v1::CreateSandboxResponse r;
  return stub_->CreateSandbox(10s, req, &r);
}

std::string AgentUnderTest::make_bundle(const std::string& id) {
  std::filesystem::path rootfs = shared() / id / "rootfs";
  for (const char* d : {"bin", "proc", "dev", "sys", "tmp", "etc"})
    std::filesystem::create_directories(rootfs / d);
  std::filesystem::copy_file("/bin/busybox", rootfs / "bin/busybox",
                             std::filesystem::copy_options::overwrite_existing);
  return id + "/rootfs";
}

CallStatus AgentUnderTest::create(const std::string& id, const std::vector<std::string>& args,
                                  bool terminal, bool open_stdin,
                                  v1::CreateContainerResponse* response) {
  v1::CreateContainerRequest req;
  req.set_container_id(id);
  req.set_oci_spec_json(spec_json(args, terminal));
  req.set_rootfs(make_bundle(id));
  req.mutable_stdio()->set_open_stdin(open_stdin);
  v1::CreateContainerResponse r;
  return stub_->CreateContainer(30s, req, response ? response : &r);
}

CallStatus AgentUnderTest::start(const std::string& id) {
  v1::StartContainerRequest req;
  req.set_container_id(id);
  v1::StartContainerResponse r;
  return stub_->StartContainer(10s, req, &r);
}

std::string AgentUnderTest::output(const std::string& id, v1::OutputStream stream,
                                   const std::string& exec_id) {
  return read_all_output(*stub_, id, stream, exec_id, 10s);
}

v1::WaitProcessResponse AgentUnderTest::wait(const std::string& id, const std::string& exec_id) {
  v1::WaitProcessRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec_id);
  v1::WaitProcessResponse r;
  CallStatus s = stub_->WaitProcess(10s, req, &r);
  if (!s.ok()) fail("WaitProcess {}: {}", id, s.error_message());
  return r;
}

CallStatus AgentUnderTest::remove(const std::string& id, bool force) {
  v1::RemoveContainerRequest req;
  req.set_container_id(id);
  req.set_force(force);
  v1::RemoveContainerResponse r;
  return stub_->RemoveContainer(10s, req, &r);
}

std::string spec_json(const std::vector<std::string>& args, bool terminal) {
  json caps = kDefaultCaps;
  json spec = {
      {"ociVersion", "1.0.2"},
      {"process",
       {{"terminal", terminal},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", args},
        {"env", {"PATH=/bin", "TERM=xterm"}},
        {"cwd", "/"},
        {"capabilities",
         {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"inheritable", caps}}},
        {"noNewPrivileges", true}}},
      {"root", {{"path", "rootfs"}}},
      {"hostname", "box"},
      {"mounts",
       {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
        {{"destination", "/dev"},
         {"type", "tmpfs"},
         {"source", "tmpfs"},
         {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
        {{"destination", "/dev/pts"},
         {"type", "devpts"},
         {"source", "devpts"},
         {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}}}}},
      {"linux",
       {{"namespaces",
         {{{"type", "pid"}}, {{"type", "mount"}}, {{"type", "uts"}}, {{"type", "ipc"}}}},
        {"maskedPaths", {"/proc/kcore"}},
        {"readonlyPaths", {"/proc/sys"}}}}};
  return spec.dump();
}

}  // namespace vmrt::agent::test
