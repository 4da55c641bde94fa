// pod_network: TCP between the host and a pod on CNI's bridge, a vmrt pod
// beside a runc pod on the same private containerd and bridge: round-trip
// latency of 1-byte messages to an echo server in the pod, and one-way
// throughput into a sink in the pod. Run by tools/bench/pod_network.sh; not a
// test.

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/fd.h"
#include "tests/rig/containerd/containerd_harness.h"
#include "tools/cri/cri_client.h"
#include "tools/cri/cri_config.h"

namespace {

using namespace std::chrono_literals;
using namespace vmrt;
using Clock = std::chrono::steady_clock;
namespace v1 = cri::v1;

constexpr int kEchoPort = 8080, kSinkPort = 5001;
constexpr const char* kBusybox = "/bin/busybox";

UniqueFd connect_to(const std::string& ip, int port) {
  auto deadline = Clock::now() + 60s;
  for (;;) {
    UniqueFd s(check_sys(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return s;
    // The server in the pod may still be starting.
    if (Clock::now() > deadline) throw_errno(fmt::format("connect {}:{}", ip, port));
    std::this_thread::sleep_for(100ms);
  }
}

// Median round trip of `n` 1-byte messages, in microseconds.
double rtt_us(const std::string& ip, int n) {
  UniqueFd s = connect_to(ip, kEchoPort);
  int one = 1;
  ::setsockopt(s.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::vector<double> us;
  for (int i = 0; i < n; ++i) {
    char c = 'x';
    auto t0 = Clock::now();
    if (::write(s.get(), &c, 1) != 1 || ::read(s.get(), &c, 1) != 1) fail("echo broke off");
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

// MiB/s of `mib` MiB written to the sink, until it has read them all (it
// closes the connection at end of file).
double throughput_mibs(const std::string& ip, int mib) {
  UniqueFd s = connect_to(ip, kSinkPort);
  std::vector<char> buf(1 << 20, 'y');
  auto t0 = Clock::now();
  for (int i = 0; i < mib; ++i)
    for (size_t off = 0; off < buf.size();) {
      ssize_t w = ::write(s.get(), buf.data() + off, buf.size() - off);
      if (w <= 0) throw_errno("write to the sink");
      off += static_cast<size_t>(w);
    }
  ::shutdown(s.get(), SHUT_WR);
  char c;
  while (::read(s.get(), &c, 1) > 0) {
  }
  return mib / std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Result {
  double rtt = 0, mibs = 0;
};

Result measure(containerd_test::Containerd& ctrd, cri::Client& client, const std::string& handler,
               int messages, int mib) {
  v1::PodSandboxConfig pod;
  pod.mutable_metadata()->set_name("bench-net-" + handler);
  pod.mutable_metadata()->set_namespace_("vmrt-bench");
  pod.mutable_metadata()->set_uid(cri::random_hex_id());
  pod.set_log_directory((ctrd.dir() / "pod-logs" / handler).string());
  pod.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(
      v1::POD);
  std::string id = client.run_pod_sandbox(pod, handler);
  Result r;
  try {
    std::string ip = client.pod_sandbox_status(id).status().network().ip();
    auto start = [&](const std::string& name, const std::vector<std::string>& cmd) {
      v1::ContainerConfig c;
      c.mutable_metadata()->set_name(name);
      c.mutable_image()->set_image(containerd_test::kBusyboxImage);
      for (const auto& a : cmd) c.add_command(a);
      c.set_log_path(name + ".log");
      cri::inherit_pod_namespaces(pod, c);
      client.start_container(client.create_container(id, c, pod));
    };
    start("echo", {kBusybox, "nc", "-ll", "-p", std::to_string(kEchoPort), "-e", kBusybox, "cat"});
    start("sink",
          {"sh", "-c",
           fmt::format("while :; do {} nc -l -p {} >/dev/null; done", kBusybox, kSinkPort)});
    rtt_us(ip, 50);  // warm-up: ARP, the server's first fork
    r.rtt = rtt_us(ip, messages);
    throughput_mibs(ip, 4);
    r.mibs = throughput_mibs(ip, mib);
  } catch (...) {
    client.stop_pod_sandbox(id);
    client.remove_pod_sandbox(id);
    throw;
  }
  client.stop_pod_sandbox(id);
  client.remove_pod_sandbox(id);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"host <-> pod TCP latency and throughput, vmrt beside runc on one CNI bridge"};
  int messages = 2000, mib = 256;
  app.add_option("--messages", messages, "1-byte round trips per pod")
      ->check(CLI::Range(10, 1000000));
  app.add_option("--mib", mib, "MiB sent to the sink per pod")->check(CLI::Range(1, 65536));
  CLI11_PARSE(app, argc, argv);
  try {
    containerd_test::Containerd::Options o;
    o.pod_subnet = "10.90.0";
    containerd_test::Containerd ctrd(o);
    ctrd.import_images(containerd_test::kCriNamespace);
    cri::Client client(ctrd.cri_endpoint(), 300s);
    client.wait_ready(60s);
    Result vmrt = measure(ctrd, client, "vmrt", messages, mib);
    Result runc = measure(ctrd, client, "runc", messages, mib);
    fmt::print("{:<28} {:>12} {:>12} {:>8}\n", "host <-> pod, TCP", "vmrt", "runc", "ratio");
    fmt::print("{:<28} {:>12.1f} {:>12.1f} {:>8.2f}\n", "round trip, median (us)", vmrt.rtt,
               runc.rtt, vmrt.rtt / runc.rtt);
    fmt::print("{:<28} {:>12.1f} {:>12.1f} {:>8.2f}\n", "host -> pod (MiB/s)", vmrt.mibs, runc.mibs,
               vmrt.mibs / runc.mibs);
  } catch (const std::exception& e) {
    fmt::print(stderr, "pod_network: {}\n", e.what());
    return 1;
  }
}
