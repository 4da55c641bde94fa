#pragma once
// For the agent's host tests: a vmrt-agent started on a Unix socket in a
// temporary directory, a gRPC client to it, and a busybox bundle in its
// shared directory. Needs root (namespaces, mounts, cgroups); uses the host's
// cgroup2 mount, which may offer no controllers.

#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/process.h"
#include "common/tempdir.h"
#include "proto/agent.grpc.pb.h"

namespace vmrt::agent::test {

namespace v1 = vmrt::agent::v1;

class AgentUnderTest {
 public:
  // Starts the agent and connects; with `netns` (a path), the agent runs in
  // that network namespace.
  explicit AgentUnderTest(const std::string& netns = "");
  ~AgentUnderTest();

  v1::Agent::Stub& stub() { return *stub_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::filesystem::path shared() const { return dir() / "shared"; }
  std::filesystem::path state() const { return dir() / "state"; }
  // The agent's cgroup root, where containers' cgroups go.
  static std::filesystem::path cgroup_root();
  pid_t pid() const { return agent_->pid(); }
  // SIGTERM and wait: the agent's own exit status.
  ExitStatus stop();

  // CreateSandbox with the shared directory already in place.
  grpc::Status create_sandbox(const std::string& hostname = "sandbox");
  // A bundle SHARED/ID with rootfs/bin/busybox; returns the rootfs path
  // relative to the share.
  std::string make_bundle(const std::string& id);
  // CreateContainer running `args` (busybox applets by absolute path).
  grpc::Status create(const std::string& id, const std::vector<std::string>& args,
                      bool terminal = false, bool open_stdin = false,
                      v1::CreateContainerResponse* response = nullptr);
  grpc::Status start(const std::string& id);
  // ReadOutput to end of file (at most 10 s).
  std::string output(const std::string& id, v1::OutputStream stream = v1::STDOUT,
                     const std::string& exec_id = "");
  v1::WaitProcessResponse wait(const std::string& id, const std::string& exec_id = "");
  grpc::Status remove(const std::string& id, bool force = true);

 private:
  TempDir dir_;
  std::optional<Subprocess> agent_;
  std::unique_ptr<v1::Agent::Stub> stub_;
};

// A runc-style spec for `args`: new pid, mount, uts, ipc namespaces; proc,
// /dev tmpfs, devpts; the default capabilities.
std::string spec_json(const std::vector<std::string>& args, bool terminal = false);

// The whole content of a file ("" when it cannot be read).
std::string read_file(const std::filesystem::path& p);

// Deadline `seconds` from now, for calls that may block.
std::unique_ptr<grpc::ClientContext> context(int seconds = 10);

}  // namespace vmrt::agent::test
