// Pod networking end to end: containerd's CRI plugin with CNI's bridge and
// host-local plugins gives each pod a veth and an address; a vmrt pod's VM
// takes that interface over (tap + tc redirect, virtio-net in the guest).
// Checked from both sides, for vmrt and for runc as the reference: the pod
// has the address CNI assigned, answers ping from the host, serves TCP, reaches
// the bridge's address, two pods reach each other, and nothing stays behind.

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <thread>

#include "common/error.h"
#include "common/process.h"
#include "tests/rig/containerd/containerd_harness.h"
#include "tests/rig/containerd/cri_fixture.h"
#include "tests/rig/containerd/pod_guard.h"
#include "tests/rig/support/host_state.h"
#include "tools/cri/cri_client.h"
#include "tools/cri/cri_config.h"

namespace vmrt::containerd_test {
namespace {

using namespace std::chrono_literals;
using ::testing::IsEmpty;
namespace v1 = cri::v1;

constexpr int kEchoPort = 8080;
// The test image has only some applets linked: call the others by name.
constexpr const char* kBusybox = "/bin/busybox";

// Connects to ip:port, writes `message` and reads the same number of bytes
// back; what came back, or the error.
std::string tcp_echo(const std::string& ip, int port, const std::string& message) {
  auto deadline = std::chrono::steady_clock::now() + 60s;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
      // The server may still be starting.
      last = std::string("connect: ") + std::strerror(errno);
      std::this_thread::sleep_for(200ms);
      continue;
    }
    if (::write(s.get(), message.data(), message.size()) != static_cast<ssize_t>(message.size()))
      return "write failed";
    std::string got;
    while (got.size() < message.size()) {
      pollfd p{s.get(), POLLIN, 0};
      if (::poll(&p, 1, 10000) <= 0) return "no answer within 10 s, got \"" + got + "\"";
      char buf[256];
      ssize_t n = ::read(s.get(), buf, sizeof buf);
      if (n <= 0) return "closed after \"" + got + "\"";
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }
  return last;
}

// How many network interfaces named `name` exist in any named namespace or
// the root one: vmrt's taps must go with their pods.
int links_named(const std::string& name) {
  int n = 0;
  std::vector<std::vector<std::string>> where = {{"ip", "-o", "link", "show"}};
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/run/netns", ec))
    where.push_back({"ip", "-n", e.path().filename().string(), "-o", "link", "show"});
  for (const auto& argv : where) {
    RunResult r = run_capture(argv, 10s);
    for (size_t at = 0; (at = r.out.find(": " + name + ":", at)) != std::string::npos; ++at) ++n;
  }
  return n;
}

class CriNetworkTest : public CriFixture {
 protected:
  static void SetUpTestSuite() {
    Containerd::Options o;
    o.pod_subnet = "10.89.0";
    start_containerd(o);
  }
  void TearDown() override {
    CriFixture::TearDown();
    EXPECT_EQ(links_named("vmrt-tap0"), 0) << "a tap outlived its pod";
  }

  struct Pod {
    std::string id, ip, container;
  };
  // A pod whose container runs a TCP echo server; `guard` removes it
  // however the test ends.
  Pod run_pod(const std::string& name, std::optional<cri::PodGuard>& guard) {
    v1::PodSandboxConfig config = pod_config(name + "-" + GetParam(), v1::POD);
    Pod p;
    p.id = client_->run_pod_sandbox(config, GetParam());
    guard.emplace(*client_, p.id);
    p.ip = client_->pod_sandbox_status(p.id).status().network().ip();
    p.container = start_container(
        p.id, config, "echo",
        {kBusybox, "nc", "-ll", "-p", std::to_string(kEchoPort), "-e", kBusybox, "cat"});
    return p;
  }
};

TEST_P(CriNetworkTest, PodGetsItsCniAddressAndIsReachable) {
  std::optional<cri::PodGuard> guard_a, guard_b;
  Pod a = run_pod("net-a", guard_a);
  ASSERT_EQ(a.ip.rfind("10.89.0.", 0), 0u) << "pod IP " << a.ip;

  // The container itself sees that address on its eth0.
  auto addr =
      client_->exec_sync(a.container, {kBusybox, "ip", "-4", "-o", "addr", "show", "eth0"}, 60s);
  EXPECT_EQ(addr.exit_code(), 0) << addr.stderr();
  EXPECT_NE(addr.stdout().find(a.ip + "/24"), std::string::npos) << addr.stdout();
  auto route = client_->exec_sync(a.container, {kBusybox, "ip", "route"}, 60s);
  EXPECT_NE(route.stdout().find("default via " + containerd_->pod_gateway()), std::string::npos)
      << route.stdout();

  // Host -> pod: ping and the TCP echo server in the container.
  RunResult ping = run_capture({"ping", "-c", "3", "-W", "5", a.ip}, 60s);
  EXPECT_TRUE(ping.status.success()) << ping.out << ping.err;
  EXPECT_EQ(tcp_echo(a.ip, kEchoPort, "hello through the pod network"),
            "hello through the pod network");

  // Pod -> host: the bridge's address.
  auto gw = client_->exec_sync(
      a.container, {kBusybox, "ping", "-c", "2", "-W", "5", containerd_->pod_gateway()}, 60s);
  EXPECT_EQ(gw.exit_code(), 0) << gw.stdout() << gw.stderr();

  // Pod -> pod, across two VMs (or two runc pods) on the bridge.
  Pod b = run_pod("net-b", guard_b);
  ASSERT_NE(b.ip, a.ip);
  // Each pod's NIC has its own MAC (for vmrt: the pod's, not the one of
  // the VM template both were restored from).
  // (From ip: a runc pod's container may have no sysfs.)
  auto mac_of = [&](const Pod& p) {
    std::string out =
        client_->exec_sync(p.container, {kBusybox, "ip", "-o", "link", "show", "eth0"}, 60s)
            .stdout();
    size_t at = out.find("link/ether ");
    return at == std::string::npos ? out : out.substr(at + 11, 17);
  };
  std::string mac_a = mac_of(a), mac_b = mac_of(b);
  EXPECT_EQ(mac_a.size(), 17u) << mac_a;
  EXPECT_NE(mac_a, mac_b);
  for (const std::string& m : {mac_a, mac_b}) EXPECT_NE(m, "02:76:6d:72:74:01");
  auto ab = client_->exec_sync(a.container, {kBusybox, "ping", "-c", "2", "-W", "5", b.ip}, 60s);
  EXPECT_EQ(ab.exit_code(), 0) << ab.stdout() << ab.stderr();
  auto echo = client_->exec_sync(b.container,
                                 {"sh", "-c",
                                  std::string("echo pod-to-pod | ") + kBusybox + " nc -w 5 " +
                                      a.ip + " " + std::to_string(kEchoPort)},
                                 60s);
  EXPECT_EQ(echo.stdout(), "pod-to-pod\n") << echo.stderr();

  guard_b->remove();
  guard_a->remove();
}

INSTANTIATE_TEST_SUITE_P(Runtimes, CriNetworkTest, ::testing::Values("vmrt", "runc"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vmrt::containerd_test
