// The whole path in a real guest (inside tools/testvm, where KVM boots real
// kernels): vmrt-vmm boots the guest kernel with the agent's initramfs, the
// host reaches the agent through hybrid vsock (CONNECT 1024 on the VM's
// socket, the connected socket handed to gRPC), and a busybox container whose
// bundle is shared over virtio-fs prints its output back to the host.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "common/hybrid_vsock.h"
#include "tests/root/agent/service/agent_service_client.h"

namespace vmrt::agent::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

class AgentServiceVm : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(VMRT_GUEST_VMLINUX)) GTEST_SKIP() << "no guest kernel built";
    share_ = dir_.path() / "share";
    std::filesystem::create_directories(share_ / "c1/rootfs/bin");
    for (const char* d : {"proc", "dev", "sys", "tmp"})
      std::filesystem::create_directories(share_ / "c1/rootfs" / d);
    std::filesystem::copy_file("/bin/busybox", share_ / "c1/rootfs/bin/busybox");
    vm_socket_ = dir_.path() / "vm.sock";
    console_ = dir_.path() / "console";
    SpawnOptions o;
    o.err = Stdio::inherit();
    vmm_.emplace(Subprocess::spawn(
        {VMRT_VMM, "--kernel", VMRT_GUEST_VMLINUX, "--initrd", VMRT_AGENT_INITRAMFS, "--mem", "256",
         "--cpus", "1", "--console", console_.string(), "--vsock-socket", vm_socket_.string(),
         "--fs-dir", share_.string(), "--cmdline", "console=ttyS0 reboot=k panic=-1 quiet"},
        o));
  }

  // A client over one hybrid vsock connection to the agent's port, retried
  // while the guest boots.
  std::unique_ptr<AgentStub> connect() {
    auto deadline = std::chrono::steady_clock::now() + 300s;
    std::string last;
    while (std::chrono::steady_clock::now() < deadline) {
      if (vmm_->wait_for(0ms)) break;
      try {
        return std::make_unique<AgentStub>(hybrid_vsock::connect_vsock(vm_socket_, 1024, 10s));
      } catch (const Error& e) {
        last = e.what();
        std::this_thread::sleep_for(200ms);
      }
    }
    ADD_FAILURE() << "no agent on vsock port 1024: " << last << "\nguest console:\n"
                  << read_file(console_);
    return nullptr;
  }

  TempDir dir_{"agent-vm"};
  std::filesystem::path share_, vm_socket_, console_;
  std::optional<Subprocess> vmm_;
};

std::string read_output(AgentStub& stub, const std::string& id) {
  return read_all_output(stub, id, v1::STDOUT, "", 60s);
}

// Creates, starts and waits for container `id` running `spec`; its stdout.
std::string run(AgentStub& stub, const std::string& id, const std::string& spec, int* status) {
  v1::CreateContainerRequest cr;
  cr.set_container_id(id);
  cr.set_oci_spec_json(spec);
  cr.set_rootfs("c1/rootfs");
  v1::CreateContainerResponse crr;
  CallStatus s = stub.CreateContainer(60s, cr, &crr);
  if (!s.ok()) return "CreateContainer: " + s.error_message();
  v1::StartContainerRequest sr;
  sr.set_container_id(id);
  v1::StartContainerResponse srr;
  s = stub.StartContainer(60s, sr, &srr);
  if (!s.ok()) return "StartContainer: " + s.error_message();
  std::string out = read_output(stub, id);
  v1::WaitProcessRequest wr;
  wr.set_container_id(id);
  v1::WaitProcessResponse w;
  s = stub.WaitProcess(60s, wr, &w);
  *status = s.ok() ? w.status() : -1;
  v1::RemoveContainerRequest rr;
  rr.set_container_id(id);
  v1::RemoveContainerResponse rrr;
  stub.RemoveContainer(60s, rr, &rrr);
  return out;
}

TEST_F(AgentServiceVm, BusyboxContainerFromTheShareAnswersOverVsock) {
  auto t0 = std::chrono::steady_clock::now();
  auto stub = connect();
  ASSERT_TRUE(stub);
  v1::HealthResponse h;
  CallStatus s = stub->Health(60s, {}, &h);
  ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << read_file(console_);
  auto t1 = std::chrono::steady_clock::now();
  std::cout << "boot to agent health: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(t1 - t0).count()
            << " ms (nested, TCG-inflated)\n";
  EXPECT_EQ(h.status(), v1::HealthResponse::SERVING);

  v1::CreateSandboxRequest sb;
  sb.set_hostname("vm-pod");
  sb.mutable_shared_fs()->set_mount_tag("vmrt");
  v1::CreateSandboxResponse sbr;
  s = stub->CreateSandbox(60s, sb, &sbr);
  ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << read_file(console_);

  int status = -1;
  std::string out = run(
      *stub, "c1", spec_json({"/bin/busybox", "sh", "-c", "echo hello from $(hostname)"}), &status);
  EXPECT_EQ(out, "hello from box\n") << read_file(console_);
  EXPECT_EQ(status, 0);

  // Without a pid namespace the container's /proc shows the guest's: PID 1
  // is the agent, and its memory is the figure the design targets.
  nlohmann::json spec = nlohmann::json::parse(
      spec_json({"/bin/busybox", "sh", "-c", "grep -E '^(Name|VmRSS)' /proc/1/status"}));
  auto& ns = spec["linux"]["namespaces"];
  ns.erase(std::remove_if(ns.begin(), ns.end(), [](auto& n) { return n["type"] == "pid"; }),
           ns.end());
  out = run(*stub, "c2", spec.dump(), &status);
  EXPECT_THAT(out, HasSubstr("Name:\tinit\n")) << out;  // the agent is /init
  EXPECT_EQ(status, 0);
  std::cout << "agent in the guest:\n" << out;

  v1::DestroySandboxResponse d;
  EXPECT_TRUE(stub->DestroySandbox(60s, {}, &d).ok());
}

}  // namespace
}  // namespace vmrt::agent::test
