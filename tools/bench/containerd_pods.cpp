// containerd_pods: what Kubernetes pods cost with vmrt beside runc, on one
// private containerd (the rig tests' harness): pod start latency through CRI
// (RunPodSandbox sent -> StartContainer answered, one-container pods) and
// the memory of the shims and VMs per pod with 1, 5 and 10 pods running.
// vmrt runs twice: as configured by default (handler `vmrt`: sandboxes
// restored from a VM template) and booting every VM (handler `vmrt-cold`,
// [hypervisor] template = false); on request (--handlers) also restored
// into memory of its own (handler `vmrt-private`, template_memory =
// "private"). Run by tools/bench/containerd_pods.sh; not a test.

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "sandbox/config.h"
#include "tests/rig/containerd/containerd_harness.h"
#include "tools/bench/pod_memory.h"
#include "tools/cri/cri_client.h"
#include "tools/cri/pod_start_bench.h"

namespace {

using namespace std::chrono_literals;
using namespace vmrt;
using bench::PodMemory;
using containerd_test::Containerd;

constexpr const char* kTemplate = "vmrt";
constexpr const char* kCold = "vmrt-cold";
constexpr const char* kPrivate = "vmrt-private";

std::string shim_of(const std::string& handler) {
  return handler.starts_with("vmrt") ? "containerd-shim-vmrt-v1" : "containerd-shim-runc-v2";
}

cri::PodStartBenchOptions options_for(const std::string& handler, int count) {
  cri::PodStartBenchOptions o;
  o.runtime_handler = handler;
  o.image = containerd_test::kBusyboxImage;
  o.count = count;
  o.argv = {"sleep", "3600"};
  return o;
}

double ratio(double a, double b) { return b > 0 ? a / b : 0; }

// Where the `vmrt` handler's sandboxes keep their VM templates; empty when
// its configuration turns them off.
std::filesystem::path template_root(const Containerd& containerd) {
  sandbox::RuntimeConfig c = sandbox::load_config(containerd.vmrt_config(kTemplate), true);
  return c.template_vm ? c.template_dir : std::filesystem::path{};
}

// The templates under `dir`, one directory each.
std::set<std::string> entries(const std::filesystem::path& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    if (it->is_directory(ec)) out.insert(it->path().filename());  // not their lock files
  return out;
}

// What the shims said when a sandbox booted although it was to be restored
// (sandbox/sandbox.cpp's warnings), from containerd's log.
std::vector<std::string> template_warnings(const Containerd& containerd) {
  std::vector<std::string> out;
  std::istringstream log(containerd.log());
  for (std::string line; std::getline(log, line);)
    if (line.find("no VM template") != std::string::npos ||
        line.find("restoring VM template") != std::string::npos)
      out.push_back(line);
  return out;
}

// After the `vmrt` warm-up pod: whether it made the template (so that no
// timed pod does), and if there is none, why.
void report_template(const Containerd& containerd, const std::filesystem::path& root,
                     const std::set<std::string>& before) {
  if (root.empty()) {
    fmt::print("template: off in {}'s configuration\n", kTemplate);
    return;
  }
  std::set<std::string> after = entries(root);
  for (const auto& name : after)
    fmt::print("template {}: {} by the warm-up pod, {:.1f} MiB allocated\n", (root / name).string(),
               before.count(name) ? "there before, used" : "made",
               bench::allocated_kib(root / name) / 1024.0);
  if (after.empty()) {
    fmt::print("WARNING: no template in {} after the warm-up pod: {} pods boot\n", root.string(),
               kTemplate);
    for (const auto& l : template_warnings(containerd)) fmt::print("  {}\n", l);
  }
  std::fflush(stdout);
}

// Pod start medians by handler, each after a warm-up pod of its own.
std::map<std::string, double> pod_start(const Containerd& containerd, cri::Client& client, int runs,
                                        const std::vector<std::string>& handlers) {
  std::filesystem::path root = template_root(containerd);
  std::map<std::string, double> median;
  for (const auto& h : handlers) {
    std::set<std::string> before = entries(root);
    auto w = cri::bench_pod_start(client, options_for(h, 1), {});
    fmt::print("{} warm-up pod start {:.0f} ms\n", h, w.total.median);
    if (h == kTemplate) report_template(containerd, root, before);
    auto o = options_for(h, runs);
    auto r = cri::bench_pod_start(client, o, [&h](const cri::PodStartTiming& t) {
      fmt::print(stderr, "{} pod start {:.0f} ms\n", h, t.total_ms);
    });
    std::fputs(cri::bench_table(o, r).c_str(), stdout);
    median[h] = r.total.median;
  }
  for (const auto& l : template_warnings(containerd))
    fmt::print("WARNING: a vmrt sandbox booted: {}\n", l);
  fmt::print("pod start (RunPodSandbox -> StartContainer), median of {}:", runs);
  for (const auto& h : handlers) fmt::print(" {} {:.0f} ms", h, median[h]);
  fmt::print("\n");
  auto print_ratio = [&](const char* a, const char* b, const char* name) {
    if (median.count(a) && median.count(b))
      fmt::print("  ratio {} {:.2f}\n", name, ratio(median[a], median[b]));
  };
  print_ratio(kTemplate, "runc", "vmrt-template/runc");
  print_ratio(kCold, "runc", "vmrt-cold/runc");
  print_ratio(kTemplate, kCold, "template/cold");
  print_ratio(kPrivate, kTemplate, "private/template");
  std::fflush(stdout);
  return median;
}

// `n` pods of handler `h` running at once: their memory, printed; the pods
// are removed again.
PodMemory pods_memory(cri::Client& client, const std::string& h, int n, bool show_mappings) {
  auto o = options_for(h, n);
  o.keep = true;
  auto r = cri::bench_pod_start(client, o, {});
  std::this_thread::sleep_for(2s);  // let start-up allocations settle
  PodMemory p = bench::measure_pods(shim_of(h));
  // Per shim: a pod whose shim is gone (it failed after starting) must not
  // make the others look smaller.
  int shims = std::max(p.shims, 1), vmms = std::max(p.vmms, 1);
  fmt::print(
      "{:>9} {:>5} {:>6} {:>10.2f} MiB {:>10.2f} MiB {:>5} {:>8} {:>10.2f} MiB {:>10.2f} MiB\n", h,
      n, p.shims, p.shim_kib / 1024.0 / shims, p.shim_anon_kib / 1024.0 / shims, p.vmms, p.restored,
      p.vm_kib / 1024.0 / vmms, p.vmm_kib / 1024.0 / vmms);
  // The two vmrt handlers must differ in exactly this, or the comparison is void.
  if ((h == kTemplate || h == kPrivate) && p.restored != p.vmms)
    fmt::print("WARNING: {} of {} {} VMs were booted, not restored\n", p.vmms - p.restored, p.vmms,
               h);
  if (h == kCold && p.restored != 0)
    fmt::print("WARNING: {} of {} {} VMs were restored from a template\n", p.restored, p.vmms, h);
  if (p.shims != n) fmt::print(stderr, "{}: {} pods started, {} shims running\n", h, n, p.shims);
  if (show_mappings && !p.first_shim.empty()) {
    fmt::print("  {} shim {}: PSS by mapping\n", h, p.first_shim);
    auto top = bench::pss_by_mapping(p.first_shim);
    for (size_t i = 0; i < top.size() && i < 12; ++i)
      fmt::print("  {:>8} KiB  {}\n", top[i].first, top[i].second);
  }
  std::fflush(stdout);
  for (const auto& pod : r.pods) {
    client.stop_pod_sandbox(pod.pod_id);
    client.remove_pod_sandbox(pod.pod_id);
  }
  return p;
}

// PSS per VM and per shim, templates against cold boots, at each pod count.
void print_memory_ratios(const std::map<std::pair<std::string, int>, PodMemory>& mem,
                         const std::vector<int>& pod_counts) {
  auto per = [](long kib, int count) { return kib / 1024.0 / std::max(count, 1); };
  for (int n : pod_counts) {
    auto t = mem.find({kTemplate, n}), c = mem.find({kCold, n}), v = mem.find({kPrivate, n});
    if (t != mem.end() && v != mem.end()) {
      double shared = per(t->second.vm_kib, t->second.vmms);
      double own = per(v->second.vm_kib, v->second.vmms);
      fmt::print("{:>3} pods: PSS per VM private {:.2f} MiB template {:.2f} MiB ratio {:.2f}\n", n,
                 own, shared, ratio(own, shared));
    }
    if (t == mem.end() || c == mem.end()) continue;
    const PodMemory &a = t->second, &b = c->second;
    fmt::print(
        "{:>3} pods: PSS per VM template {:.2f} MiB cold {:.2f} MiB ratio {:.2f}; per VMM "
        "process {:.2f} / {:.2f} MiB ratio {:.2f}; per shim {:.2f} / {:.2f} MiB ratio {:.2f}\n",
        n, per(a.vm_kib, a.vmms), per(b.vm_kib, b.vmms),
        ratio(per(a.vm_kib, a.vmms), per(b.vm_kib, b.vmms)), per(a.vmm_kib, a.vmms),
        per(b.vmm_kib, b.vmms), ratio(per(a.vmm_kib, a.vmms), per(b.vmm_kib, b.vmms)),
        per(a.shim_kib, a.shims), per(b.shim_kib, b.shims),
        ratio(per(a.shim_kib, a.shims), per(b.shim_kib, b.shims)));
  }
}

}  // namespace

int measure_all(Containerd& containerd, int runs, const std::vector<int>& pod_counts,
                const std::vector<std::string>& handlers);

int main(int argc, char** argv) {
  CLI::App app{"pod start latency and memory per pod: vmrt from templates, vmrt booting, runc"};
  int runs = 5;
  std::vector<int> pod_counts = {1, 5, 10};
  std::vector<std::string> handlers = {"runc", kTemplate, kCold};
  app.add_option("--runs", runs, "pods timed one after another per handler")->capture_default_str();
  app.add_option("--pods", pod_counts, "pods running at once for the memory figures")
      ->delimiter(',');
  app.add_option("--handlers", handlers, "runtime handlers")->delimiter(',');
  CLI11_PARSE(app, argc, argv);

  try {
    Containerd::Options o;
    o.vmrt_variants[kCold] = "template = false";
    o.vmrt_variants[kPrivate] = "template_memory = \"private\"";
    Containerd containerd(o);
    return measure_all(containerd, runs, pod_counts, handlers);
  } catch (const std::exception& e) {
    fmt::print(stderr, "containerd_pods: {}\n", e.what());
    return 1;
  }
}

int measure_all(Containerd& containerd, int runs, const std::vector<int>& pod_counts,
                const std::vector<std::string>& handlers) {
  try {
    fmt::print(
        "containerd_pods {:%Y-%m-%d %H:%M:%S} UTC: {} = default configuration (VM "
        "templates), {} = [hypervisor] template = false\n",
        std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()), kTemplate,
        kCold);
    containerd.import_images(containerd_test::kCriNamespace);
    cri::Client client(containerd.cri_endpoint(), 600s);
    client.wait_ready(60s);
    pod_start(containerd, client, runs, handlers);

    fmt::print("{:>9} {:>5} {:>6} {:>14} {:>14} {:>5} {:>8} {:>14} {:>14}\n", "handler", "pods",
               "shims", "PSS per shim", "of it anon", "VMs", "restored", "PSS per VM",
               "VMM process");
    fmt::print(
        "  (PSS per VM: its VMM and virtio-fs file server; restored: VMMs started from a "
        "template)\n");
    std::map<std::pair<std::string, int>, PodMemory> mem;
    for (int n : pod_counts)
      for (const auto& h : handlers)
        mem[{h, n}] = pods_memory(client, h, n, n == pod_counts.front());
    std::filesystem::path root = template_root(containerd);
    if (!root.empty())
      fmt::print(
          "templates in {}: {:.1f} MiB allocated, once for all pods (mapped pages are "
          "in the VMs' PSS)\n",
          root.string(), bench::allocated_kib(root) / 1024.0);
    print_memory_ratios(mem, pod_counts);

    auto left = containerd.leftovers();
    for (const auto& l : left) fmt::print(stderr, "left behind: {}\n", l);
    return left.empty() ? 0 : 1;
  } catch (const std::exception& e) {
    // What the pod's shim and VM said: a benchmark that fails must say why.
    fmt::print(stderr, "containerd_pods: {}\n{}\n", e.what(), containerd.hang_report());
    return 1;
  }
}
