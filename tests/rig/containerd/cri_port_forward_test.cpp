// CRI PortForward end to end, for vmrt and for runc as the reference: a
// pod's container serves TCP (a busybox nc echo server), and
// - a connection to 127.0.0.1:PORT made inside the pod's network
//   namespace, as containerd dials for PortForward, reaches it (for vmrt:
//   through the shim's relay and the agent's forwarder, in the guest);
// - containerd's streaming server, at the URL PortForward returns, carries
//   a WebSocket client's bytes to it and back, as kubectl port-forward does;
// - for vmrt, the relay listens on loopback only: the pod's own address in
//   its namespace on the host gets nothing.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>

#include "common/error.h"
#include "common/fd_io.h"
#include "common/process.h"
#include "tests/rig/containerd/containerd_harness.h"
#include "tests/rig/containerd/cri_fixture.h"
#include "tests/rig/containerd/pod_guard.h"
#include "tools/cri/cri_client.h"
#include "tools/cri/port_forward_client.h"

namespace vmrt::containerd_test {
namespace {

using namespace std::chrono_literals;
namespace v1 = cri::v1;

constexpr uint16_t kEchoPort = 8080;
constexpr const char* kBusybox = "/bin/busybox";

// The named network namespace (/run/netns/...) whose interface has `ip`:
// the pod's, which CNI made and containerd dials in.
std::filesystem::path netns_with_address(const std::string& ip) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/run/netns", ec)) {
    RunResult r =
        run_capture({"ip", "-n", e.path().filename().string(), "-4", "-o", "addr", "show"}, 10s);
    if (r.out.find(" " + ip + "/") != std::string::npos) return e.path();
  }
  return {};
}

// A TCP connection to ip:port made from inside the network namespace
// `netns` (the socket stays in it); an invalid fd when refused.
UniqueFd dial_in(const std::filesystem::path& netns, const std::string& ip, uint16_t port) {
  UniqueFd fd;
  std::thread t([&] {
    UniqueFd ns(::open(netns.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns || ::setns(ns.get(), CLONE_NEWNET) < 0) return;
    UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) fd = std::move(s);
  });
  t.join();
  return fd;
}

// Writes `message` and reads as many bytes back (at most 30 s).
std::string echo(int fd, const std::string& message) {
  write_all(fd, message);
  std::string got;
  while (got.size() < message.size()) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 30000) <= 0) return "no answer, got \"" + got + "\"";
    char buf[256];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return "closed after \"" + got + "\"";
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

class CriPortForwardTest : public CriFixture {
 protected:
  static void SetUpTestSuite() {
    Containerd::Options o;
    o.pod_subnet = "10.91.0";
    start_containerd(o);
  }
};

TEST_P(CriPortForwardTest, PortForwardReachesThePodsLoopbackPort) {
  v1::PodSandboxConfig config = pod_config("pf-" + GetParam(), v1::POD);
  std::string pod = client_->run_pod_sandbox(config, GetParam());
  cri::PodGuard guard(*client_, pod);
  std::string ip = client_->pod_sandbox_status(pod).status().network().ip();
  start_container(pod, config, "echo",
                  {kBusybox, "nc", "-ll", "-p", std::to_string(kEchoPort), "-e", kBusybox, "cat"});
  std::filesystem::path netns = netns_with_address(ip);
  ASSERT_FALSE(netns.empty()) << "no network namespace has the pod's address " << ip;

  // containerd's own dial: 127.0.0.1 in the pod's namespace. The server
  // may still be starting, and vmrt's relay follows the guest's ports
  // every few seconds.
  UniqueFd conn;
  for (auto deadline = std::chrono::steady_clock::now() + 60s;
       !conn && std::chrono::steady_clock::now() < deadline;)
    if (!(conn = dial_in(netns, "127.0.0.1", kEchoPort))) std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(conn) << "nothing listens on 127.0.0.1:" << kEchoPort << " in " << netns;
  EXPECT_EQ(echo(conn.get(), "hello through the pod's loopback"),
            "hello through the pod's loopback");
  conn.reset();

  if (GetParam() == std::string("vmrt"))
    EXPECT_FALSE(dial_in(netns, ip, kEchoPort))
        << "the relay listens on the pod's address, not only on loopback";

  // What kubectl port-forward does: PortForward's URL, over WebSocket.
  std::string url = client_->port_forward(pod, {kEchoPort});
  ASSERT_EQ(url.rfind("http://", 0), 0u) << url;
  cri::PortForwardStream stream(url, kEchoPort);
  const std::string message = "hello through PortForward";
  stream.write(message);
  EXPECT_EQ(stream.read_at_least(message.size()), message);

  guard.remove();
}

INSTANTIATE_TEST_SUITE_P(Runtimes, CriPortForwardTest, ::testing::Values("vmrt", "runc"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vmrt::containerd_test
