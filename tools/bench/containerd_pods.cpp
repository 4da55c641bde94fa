// containerd_pods: what Kubernetes pods cost with vmrt beside runc, on one
// private containerd (the rig tests' harness): pod start latency through CRI
// (RunPodSandbox sent -> StartContainer answered, one-container pods) and
// the memory of the shims (and VMs) per pod with 1, 5 and 10 pods running.
// Run by tools/bench/containerd_pods.sh; not a test.

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "tests/rig/containerd/containerd_harness.h"
#include "tools/cri/cri_client.h"
#include "tools/cri/pod_start_bench.h"

namespace {

using namespace std::chrono_literals;
using namespace vmrt;

struct Pss {
  long shim_kib = 0;
  long shim_anon_kib = 0;  // the shims' own memory; the rest is shared files
  long vmm_kib = 0;
  int shims = 0;
  int vmms = 0;
};

// A smaps_rollup field ("Pss:", "Pss_Anon:") of `pid`, in KiB.
long smaps_kib(const std::string& pid, const std::string& field) {
  std::ifstream in("/proc/" + pid + "/smaps_rollup");
  for (std::string key; in >> key;) {
    long v;
    if (key == field && in >> v) return v;
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

// The processes of each kind by their executable's name, whatever argv[0]
// says.
Pss measure(const std::string& shim_name) {
  Pss p;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::string pid = e.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code ec;
    std::string exe = std::filesystem::read_symlink(e.path() / "exe", ec).filename();
    if (ec) continue;
    if (exe == shim_name) {
      p.shim_kib += smaps_kib(pid, "Pss:");
      p.shim_anon_kib += smaps_kib(pid, "Pss_Anon:");
      ++p.shims;
    } else if (exe == "vmrt-vmm") {
      p.vmm_kib += smaps_kib(pid, "Pss:");
      ++p.vmms;
    }
  }
  return p;
}

std::string shim_of(const std::string& handler) {
  return handler == "vmrt" ? "containerd-shim-vmrt-v1" : "containerd-shim-runc-v2";
}

cri::PodStartBenchOptions options_for(const std::string& handler, int count) {
  cri::PodStartBenchOptions o;
  o.runtime_handler = handler;
  o.image = containerd_test::kBusyboxImage;
  o.count = count;
  o.argv = {"sleep", "3600"};
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"pod start latency and shim memory per pod, vmrt beside runc"};
  int runs = 5;
  std::vector<int> pod_counts = {1, 5, 10};
  std::vector<std::string> handlers = {"runc", "vmrt"};
  app.add_option("--runs", runs, "pods timed one after another per handler")->capture_default_str();
  app.add_option("--pods", pod_counts, "pods running at once for the memory figures")
      ->delimiter(',');
  app.add_option("--handlers", handlers, "runtime handlers")->delimiter(',');
  CLI11_PARSE(app, argc, argv);

  try {
    containerd_test::Containerd containerd;
    containerd.import_images(containerd_test::kCriNamespace);
    cri::Client client(containerd.cri_endpoint(), 600s);
    client.wait_ready(60s);

    std::map<std::string, double> median;
    for (const auto& h : handlers) {
      auto o = options_for(h, runs);
      o.warmup = 1;
      auto r = cri::bench_pod_start(client, o, [&h](const cri::PodStartTiming& t) {
        fmt::print(stderr, "{} pod start {:.0f} ms\n", h, t.total_ms);
      });
      std::fputs(cri::bench_table(o, r).c_str(), stdout);
      median[h] = r.total.median;
    }
    fmt::print("pod start (RunPodSandbox -> StartContainer), median of {}:", runs);
    for (const auto& h : handlers) fmt::print(" {} {:.0f} ms", h, median[h]);
    if (median.count("vmrt") && median.count("runc") && median["runc"] > 0)
      fmt::print("; ratio vmrt/runc {:.1f}", median["vmrt"] / median["runc"]);
    fmt::print("\n");

    fmt::print("{:>8} {:>6} {:>6} {:>14} {:>14} {:>6} {:>14}\n", "handler", "pods", "shims",
               "shim PSS/pod", "of it anon", "VMMs", "VMM PSS/pod");
    for (int n : pod_counts) {
      for (const auto& h : handlers) {
        auto o = options_for(h, n);
        o.keep = true;
        auto r = cri::bench_pod_start(client, o, {});
        std::this_thread::sleep_for(2s);  // let start-up allocations settle
        Pss p = measure(shim_of(h));
        fmt::print("{:>8} {:>6} {:>6} {:>10.2f} MiB {:>10.2f} MiB {:>6} {:>10.2f} MiB\n", h, n,
                   p.shims, p.shim_kib / 1024.0 / n, p.shim_anon_kib / 1024.0 / n, p.vmms,
                   p.vmm_kib / 1024.0 / n);
        std::fflush(stdout);
        for (const auto& pod : r.pods) {
          client.stop_pod_sandbox(pod.pod_id);
          client.remove_pod_sandbox(pod.pod_id);
        }
      }
    }
    auto left = containerd.leftovers();
    for (const auto& l : left) fmt::print(stderr, "left behind: {}\n", l);
    return left.empty() ? 0 : 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "containerd_pods: {}\n", e.what());
    return 1;
  }
}
