#pragma once
// For the agent's host tests: a vmrt-agent started on a Unix socket in a
// temporary directory, a ttrpc client to it, and a busybox bundle in its
// shared directory. Needs root (namespaces, mounts, cgroups); uses the host's
// cgroup2 mount, which may offer no controllers.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/fd.h"
#include "common/process.h"
#include "common/tempdir.h"
#include "common/ttrpc/client.h"
#include "proto/agent.pb.h"
#include "proto/agent_methods.h"

namespace vmrt::agent::test {

namespace v1 = vmrt::agent::v1;
using namespace std::chrono_literals;
using ttrpc::Code;

// How a call ended, for assertions: the status instead of an exception.
struct CallStatus {
  ttrpc::Code code = ttrpc::Code::Ok;
  std::string message;
  bool ok() const { return code == ttrpc::Code::Ok; }
  ttrpc::Code error_code() const { return code; }
  const std::string& error_message() const { return message; }
};

// The agent's methods over one ttrpc connection, each as
// `Name(timeout, request, &response) -> CallStatus`.
class AgentStub {
 public:
  explicit AgentStub(UniqueFd connection);
  ttrpc::Client& client() { return client_; }

#define VMRT_TEST_AGENT_CALL(Name, ...)                                                \
  CallStatus Name(std::chrono::milliseconds timeout, const v1::Name##Request& request, \
                  v1::Name##Response* response);
  VMRT_AGENT_METHODS(VMRT_TEST_AGENT_CALL)
#undef VMRT_TEST_AGENT_CALL

 private:
  ttrpc::Client client_;
};

class AgentUnderTest {
 public:
  // Starts the agent and connects; with `netns` (a path), the agent runs in
  // that network namespace.
  explicit AgentUnderTest(const std::string& netns = "");
  ~AgentUnderTest();

  AgentStub& stub() { return *stub_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::filesystem::path shared() const { return dir() / "shared"; }
  std::filesystem::path state() const { return dir() / "state"; }
  // The agent's cgroup root, where containers' cgroups go.
  static std::filesystem::path cgroup_root();
  // The agent's CPU sysfs directory (--cpu-root): empty until a test makes
  // a CPU tree there.
  std::filesystem::path cpus() const { return dir() / "cpus"; }
  pid_t pid() const { return agent_->pid(); }
  // SIGTERM and wait: the agent's own exit status.
  ExitStatus stop();

  // CreateSandbox with the shared directory already in place.
  CallStatus create_sandbox(const std::string& hostname = "sandbox");
  // A bundle SHARED/ID with rootfs/bin/busybox; returns the rootfs path
  // relative to the share.
  std::string make_bundle(const std::string& id);
  // CreateContainer running `args` (busybox applets by absolute path).
  CallStatus create(const std::string& id, const std::vector<std::string>& args,
                    bool terminal = false, bool open_stdin = false,
                    v1::CreateContainerResponse* response = nullptr);
  CallStatus start(const std::string& id);
  // ReadOutput to end of file (at most 10 s).
  std::string output(const std::string& id, v1::OutputStream stream = v1::STDOUT,
                     const std::string& exec_id = "");
  v1::WaitProcessResponse wait(const std::string& id, const std::string& exec_id = "");
  CallStatus remove(const std::string& id, bool force = true);

 private:
  TempDir dir_;
  std::optional<Subprocess> agent_;
  std::unique_ptr<AgentStub> stub_;
};

// A runc-style spec for `args`: new pid, mount, uts, ipc namespaces; proc,
// /dev tmpfs, devpts; the default capabilities.
std::string spec_json(const std::vector<std::string>& args, bool terminal = false);

// The whole content of a file ("" when it cannot be read).
std::string read_file(const std::filesystem::path& p);

// ReadOutput of one stream to end of file, within `timeout` in all.
std::string read_all_output(AgentStub& stub, const std::string& id, v1::OutputStream stream,
                            const std::string& exec_id, std::chrono::milliseconds timeout);

}  // namespace vmrt::agent::test
