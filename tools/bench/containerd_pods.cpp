// containerd_pods: what Kubernetes pods cost with vmrt beside runc, on one
// private containerd (the rig tests' harness): pod start latency through CRI
// (RunPodSandbox sent -> StartContainer answered, one-container pods) and
// the memory of the shims (and VMs) per pod with 1, 5 and 10 pods running.
// Run by tools/bench/containerd_pods.sh; not a test.

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
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

// Where one process's PSS lies: KiB per mapped file (anonymous memory and
// copied-on-write pages of a file count under the file's name or "[anon]").
std::vector<std::pair<long, std::string>> pss_by_mapping(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/smaps");
  std::map<std::string, long> kib;
  std::string current = "[anon]";
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string first;
    f >> first;
    if (first == "Pss:") {
      long v = 0;
      f >> v;
      kib[current] += v;
    } else if (first.find('-') != std::string::npos && first.find(':') == std::string::npos) {
      std::string perms, offset, dev, inode, path;
      f >> perms >> offset >> dev >> inode;
      std::getline(f >> std::ws, path);
      current = path.empty() ? "[anon]" : path;
    }
  }
  std::vector<std::pair<long, std::string>> out;
  for (const auto& [path, v] : kib) out.emplace_back(v, path);
  std::sort(out.rbegin(), out.rend());
  return out;
}

struct Pss {
  long shim_kib = 0;
  long shim_anon_kib = 0;  // the shims' own memory; the rest is shared files
  long vmm_kib = 0;
  int shims = 0;
  int vmms = 0;
  std::string first_shim;
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
      if (p.first_shim.empty()) p.first_shim = pid;
    } else if (exe == "vmrt-vmm") {
      // A VM's host memory is its VMM's and its virtio-fs file server's (a
      // forked vmrt-vmm named vmrt-fs-server); the VMs are the VMMs.
      p.vmm_kib += smaps_kib(pid, "Pss:");
      std::ifstream comm(e.path() / "comm");
      std::string name;
      std::getline(comm, name);
      if (name == "vmrt-vmm") ++p.vmms;
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

int measure_all(containerd_test::Containerd& containerd, int runs,
                const std::vector<int>& pod_counts, const std::vector<std::string>& handlers);

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
    return measure_all(containerd, runs, pod_counts, handlers);
  } catch (const std::exception& e) {
    fmt::print(stderr, "containerd_pods: {}\n", e.what());
    return 1;
  }
}

int measure_all(containerd_test::Containerd& containerd, int runs,
                const std::vector<int>& pod_counts, const std::vector<std::string>& handlers) {
  try {
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
               "PSS per shim", "of it anon", "VMMs", "PSS per VMM");
    for (int n : pod_counts) {
      for (const auto& h : handlers) {
        auto o = options_for(h, n);
        o.keep = true;
        auto r = cri::bench_pod_start(client, o, {});
        std::this_thread::sleep_for(2s);  // let start-up allocations settle
        Pss p = measure(shim_of(h));
        // Per shim: a pod whose shim is gone (it failed after starting) must
        // not make the others look smaller.
        int shims = std::max(p.shims, 1);
        fmt::print("{:>8} {:>6} {:>6} {:>10.2f} MiB {:>10.2f} MiB {:>6} {:>10.2f} MiB\n", h, n,
                   p.shims, p.shim_kib / 1024.0 / shims, p.shim_anon_kib / 1024.0 / shims, p.vmms,
                   p.vmm_kib / 1024.0 / std::max(p.vmms, 1));
        if (p.shims != n)
          fmt::print(stderr, "{}: {} pods started, {} shims running\n", h, n, p.shims);
        if (n == pod_counts.front() && !p.first_shim.empty()) {
          fmt::print("  {} shim {}: PSS by mapping\n", h, p.first_shim);
          auto top = pss_by_mapping(p.first_shim);
          for (size_t i = 0; i < top.size() && i < 12; ++i)
            fmt::print("  {:>8} KiB  {}\n", top[i].first, top[i].second);
        }
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
    // What the pod's shim and VM said: a benchmark that fails must say why.
    fmt::print(stderr, "containerd_pods: {}\n{}\n", e.what(), containerd.hang_report());
    return 1;
  }
}
