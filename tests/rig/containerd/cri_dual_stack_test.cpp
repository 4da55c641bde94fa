// IPv6 pod networking end to end through containerd's CRI plugin and CNI's
// bridge + host-local plugins, for vmrt and for runc as the reference:
// - a dual-stack pod (an IPv4 and an IPv6 range) has both addresses on its
//   eth0, both default routes, and pings the bridge over both families;
// - an IPv6-only pod has no IPv4 address, and its HTTP server (busybox
//   httpd) answers the host, which fetches from the pod's IPv6 address.
// For vmrt this is the shim reading the IPv6 addresses and routes of the
// pod's veth and the agent configuring them on the guest's NIC.

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include "common/error.h"
#include "common/process.h"
#include "tests/rig/containerd/containerd_harness.h"
#include "tests/rig/containerd/cri_fixture.h"
#include "tests/rig/containerd/pod_guard.h"
#include "tools/cri/cri_client.h"
#include "tools/cri/cri_config.h"

namespace vmrt::containerd_test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
namespace v1 = cri::v1;

constexpr const char* kBusybox = "/bin/busybox";
constexpr int kHttpPort = 8080;
constexpr const char* kPage = "hello over IPv6";

// GET / from [ip]:port over HTTP/1.0: the whole answer, or what failed.
// Retries while the server may still be starting.
std::string http_get6(const std::string& ip, int port) {
  auto deadline = std::chrono::steady_clock::now() + 60s;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    UniqueFd s(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET6, ip.c_str(), &addr.sin6_addr) != 1) return "not an IPv6 address";
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
      last = std::string("connect: ") + std::strerror(errno);
      std::this_thread::sleep_for(200ms);
      continue;
    }
    std::string request = "GET / HTTP/1.0\r\n\r\n";
    if (::write(s.get(), request.data(), request.size()) != static_cast<ssize_t>(request.size()))
      return "write failed";
    std::string got;
    for (;;) {
      pollfd p{s.get(), POLLIN, 0};
      if (::poll(&p, 1, 10000) <= 0) return "no answer within 10 s, got \"" + got + "\"";
      char buf[512];
      ssize_t n = ::read(s.get(), buf, sizeof buf);
      if (n <= 0) return got;
      got.append(buf, static_cast<size_t>(n));
      if (got.size() > 65536) return got;
    }
  }
  return last;
}

class PodNetworkFixture : public CriFixture {
 protected:
  struct Pod {
    std::string id, container;
    std::vector<std::string> ips;  // CRI's ip, then additional_ips
  };
  // A pod whose container runs `command`; `guard` removes it however the
  // test ends.
  Pod run_pod(const std::string& name, const std::vector<std::string>& command,
              std::optional<cri::PodGuard>& guard) {
    v1::PodSandboxConfig config = pod_config(name + "-" + GetParam(), v1::POD);
    Pod p;
    p.id = client_->run_pod_sandbox(config, GetParam());
    guard.emplace(*client_, p.id);
    auto network = client_->pod_sandbox_status(p.id).status().network();
    p.ips.push_back(network.ip());
    for (const auto& extra : network.additional_ips()) p.ips.push_back(extra.ip());
    p.container = start_container(p.id, config, "main", command);
    return p;
  }
  std::string exec(const Pod& p, const std::vector<std::string>& argv) {
    auto r = client_->exec_sync(p.container, argv, 60s);
    EXPECT_EQ(r.exit_code(), 0) << testing::PrintToString(argv) << ": " << r.stdout() << r.stderr();
    return r.stdout();
  }
};

class CriDualStackTest : public PodNetworkFixture {
 protected:
  static void SetUpTestSuite() {
    Containerd::Options o;
    o.pod_subnet = "10.92.0";
    o.pod_subnet6 = "fd00:92::";
    start_containerd(o);
  }
};

TEST_P(CriDualStackTest, PodHasBothFamiliesAndReachesTheBridgeOverBoth) {
  std::optional<cri::PodGuard> guard;
  Pod p = run_pod("dual", {kBusybox, "sleep", "600"}, guard);
  ASSERT_EQ(p.ips.size(), 2u) << testing::PrintToString(p.ips);
  std::string v4 = p.ips[0], v6 = p.ips[1];
  if (v4.find(':') != std::string::npos) std::swap(v4, v6);
  EXPECT_EQ(v4.rfind("10.92.0.", 0), 0u) << v4;
  EXPECT_EQ(v6.rfind("fd00:92::", 0), 0u) << v6;

  // The container's eth0 has both, with their prefixes, and both defaults.
  EXPECT_THAT(exec(p, {kBusybox, "ip", "-4", "-o", "addr", "show", "eth0"}), HasSubstr(v4 + "/24"));
  // Usable at once: not left tentative by duplicate address detection.
  std::string addr6 = exec(p, {kBusybox, "ip", "-6", "-o", "addr", "show", "eth0"});
  size_t at = addr6.find(v6 + "/64");
  ASSERT_NE(at, std::string::npos) << addr6;
  std::string line = addr6.substr(at, addr6.find('\n', at) - at);
  EXPECT_THAT(line, Not(HasSubstr("tentative"))) << addr6;
  EXPECT_THAT(exec(p, {kBusybox, "ip", "-4", "route"}),
              HasSubstr("default via " + containerd_->pod_gateway()));
  EXPECT_THAT(exec(p, {kBusybox, "ip", "-6", "route"}),
              HasSubstr("default via " + containerd_->pod_gateway6()));

  // Pod -> bridge over each family (busybox ping takes either).
  exec(p, {kBusybox, "ping", "-c", "2", "-W", "5", containerd_->pod_gateway()});
  exec(p, {kBusybox, "ping", "-c", "2", "-W", "5", containerd_->pod_gateway6()});
  // Host -> pod over IPv6.
  RunResult ping = run_capture({"ping", "-c", "2", "-W", "5", v6}, 60s);
  EXPECT_TRUE(ping.status.success()) << ping.out << ping.err;
  guard->remove();
}

class CriIpv6OnlyTest : public PodNetworkFixture {
 protected:
  static void SetUpTestSuite() {
    Containerd::Options o;
    o.pod_subnet6 = "fd00:93::";
    start_containerd(o);
  }
};

TEST_P(CriIpv6OnlyTest, HostFetchesFromThePodsHttpServerOverIpv6) {
  std::optional<cri::PodGuard> guard;
  std::string serve = fmt::format(
      "{0} mkdir -p /www && echo '{1}' > /www/index.html && exec {0} httpd -f -p {2} -h /www",
      kBusybox, kPage, kHttpPort);
  Pod p = run_pod("v6only", {"sh", "-c", serve}, guard);
  ASSERT_EQ(p.ips.size(), 1u) << testing::PrintToString(p.ips);
  const std::string& v6 = p.ips[0];
  ASSERT_EQ(v6.rfind("fd00:93::", 0), 0u) << v6;

  // No IPv4 but loopback's.
  EXPECT_THAT(exec(p, {kBusybox, "ip", "-4", "-o", "addr", "show", "eth0"}),
              Not(HasSubstr("inet ")));
  EXPECT_THAT(exec(p, {kBusybox, "ip", "-6", "-o", "addr", "show", "eth0"}), HasSubstr(v6 + "/64"));
  EXPECT_THAT(exec(p, {kBusybox, "ip", "-6", "route"}),
              HasSubstr("default via " + containerd_->pod_gateway6()));

  // The host (the root namespace, beside the bridge) fetches the page.
  std::string answer = http_get6(v6, kHttpPort);
  EXPECT_THAT(answer, HasSubstr("200 OK"));
  EXPECT_THAT(answer, HasSubstr(kPage));
  // And the pod reaches the bridge.
  exec(p, {kBusybox, "ping", "-c", "2", "-W", "5", containerd_->pod_gateway6()});
  guard->remove();
}

INSTANTIATE_TEST_SUITE_P(Runtimes, CriDualStackTest, ::testing::Values("vmrt", "runc"),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Runtimes, CriIpv6OnlyTest, ::testing::Values("vmrt", "runc"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vmrt::containerd_test
