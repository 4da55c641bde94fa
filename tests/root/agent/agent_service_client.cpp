#include "tests/root/agent/agent_service_client.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/error.h"

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

std::unique_ptr<grpc::ClientContext> context(int seconds) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return ctx;
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
                                   cgroup_root().string(), "--log-level",    "debug"};
  // nsenter execs the agent: the pid stays the agent's.
  if (!netns.empty()) argv.insert(argv.begin(), {"nsenter", "--net=" + netns, "--"});
  agent_.emplace(Subprocess::spawn(argv, o));
  for (int i = 0; i < 500 && !std::filesystem::exists(socket); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto channel = grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(5)))
    fail("vmrt-agent did not accept a connection on {}", socket);
  stub_ = v1::Agent::NewStub(channel);
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

grpc::Status AgentUnderTest::create_sandbox(const std::string& hostname) {
  v1::CreateSandboxRequest req;
  req.set_hostname(hostname);
  req.add_dns_servers("10.0.0.2");
  req.mutable_shared_fs()->set_mount_point(shared().string());
  v1::CreateSandboxResponse r;
  return stub_->CreateSandbox(context().get(), req, &r);
}

std::string AgentUnderTest::make_bundle(const std::string& id) {
  std::filesystem::path rootfs = shared() / id / "rootfs";
  for (const char* d : {"bin", "proc", "dev", "sys", "tmp", "etc"})
    std::filesystem::create_directories(rootfs / d);
  std::filesystem::copy_file("/bin/busybox", rootfs / "bin/busybox",
                             std::filesystem::copy_options::overwrite_existing);
  return id + "/rootfs";
}

grpc::Status AgentUnderTest::create(const std::string& id, const std::vector<std::string>& args,
                                    bool terminal, bool open_stdin,
                                    v1::CreateContainerResponse* response) {
  v1::CreateContainerRequest req;
  req.set_container_id(id);
  req.set_oci_spec_json(spec_json(args, terminal));
  req.set_rootfs(make_bundle(id));
  req.mutable_stdio()->set_open_stdin(open_stdin);
  v1::CreateContainerResponse r;
  return stub_->CreateContainer(context(30).get(), req, response ? response : &r);
}

grpc::Status AgentUnderTest::start(const std::string& id) {
  v1::StartContainerRequest req;
  req.set_container_id(id);
  v1::StartContainerResponse r;
  return stub_->StartContainer(context().get(), req, &r);
}

std::string AgentUnderTest::output(const std::string& id, v1::OutputStream stream,
                                   const std::string& exec_id) {
  v1::ReadOutputRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec_id);
  req.set_stream(stream);
  auto ctx = context();
  auto reader = stub_->ReadOutput(ctx.get(), req);
  std::string all;
  v1::OutputChunk chunk;
  while (reader->Read(&chunk)) all += chunk.data();
  grpc::Status s = reader->Finish();
  if (!s.ok()) fail("ReadOutput {}: {}", id, s.error_message());
  return all;
}

v1::WaitProcessResponse AgentUnderTest::wait(const std::string& id, const std::string& exec_id) {
  v1::WaitProcessRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec_id);
  v1::WaitProcessResponse r;
  grpc::Status s = stub_->WaitProcess(context().get(), req, &r);
  if (!s.ok()) fail("WaitProcess {}: {}", id, s.error_message());
  return r;
}

grpc::Status AgentUnderTest::remove(const std::string& id, bool force) {
  v1::RemoveContainerRequest req;
  req.set_container_id(id);
  req.set_force(force);
  v1::RemoveContainerResponse r;
  return stub_->RemoveContainer(context().get(), req, &r);
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
