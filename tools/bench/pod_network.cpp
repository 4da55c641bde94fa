// pod_network: TCP between the host and a pod on CNI's bridge, a vmrt pod
// beside a runc pod on the same private containerd and bridge: round-trip
// latency of 1-byte messages to an echo server in the pod, and one-way
// throughput into a sink in the pod. Run by tools/bench/pod_network.sh; not a
// test.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <map>
#include <optional>

#include "tests/rig/containerd/containerd_harness.h"
#include "tests/rig/support/host_state.h"
#include "tools/bench/kvm_stats.h"
#include "tools/bench/tcp_probe.h"
#include "tools/cri/cri_client.h"
#include "tools/cri/cri_config.h"

namespace {

using namespace std::chrono_literals;
using namespace vmrt;
using namespace vmrt::bench;
namespace v1 = cri::v1;

constexpr int kEchoPort = 8080, kSinkPort = 5001;
constexpr const char* kBusybox = "/bin/busybox";

struct Result {
  double rtt = 0, mibs = 0;
  // KVM's exits of the pod's VM per round trip, by kind (vmrt, with debugfs).
  std::map<std::string, double> per_round_trip;
};

// The pod VM's KVM statistics: the only vmrt-vmm running is this pod's.
std::optional<std::map<std::string, uint64_t>> pod_vm_stats() {
  std::vector<std::string> vmms = test::vmm_processes();  // "pid cmdline"
  if (vmms.size() != 1) return std::nullopt;
  return kvm_vm_stats(static_cast<pid_t>(std::stol(vmms[0])));
}

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
    rtt_us(ip, kEchoPort, 50);  // warm-up: ARP, the server's first fork
    auto before = handler == "vmrt" ? pod_vm_stats() : std::nullopt;
    r.rtt = rtt_us(ip, kEchoPort, messages);
    auto after = before ? pod_vm_stats() : std::nullopt;
    if (before && after)
      for (const auto& [name, v] : *after)
        r.per_round_trip[name] = static_cast<double>(v - before->at(name)) / messages;
    throughput_mibs(ip, kSinkPort, 4);
    r.mibs = throughput_mibs(ip, kSinkPort, mib);
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
    // Where a vmrt round trip's time goes: KVM's count of the VM's exits.
    for (const auto& [name, v] : vmrt.per_round_trip)
      fmt::print("{:<28} {:>12.2f}\n", "vmrt " + name + "/rt", v);
  } catch (const std::exception& e) {
    fmt::print(stderr, "pod_network: {}\n", e.what());
    return 1;
  }
}
