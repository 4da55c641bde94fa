// pod_soak: the CRI half of tools/rig/soak.sh. Runs pods through containerd's
// CRI plugin for runtime handler vmrt on a private containerd (the rig
// tests' harness), first one after another, then in batches started at
// once, each pod's whole life: RunPodSandbox, a busybox container created
// and started, ExecSync `true`, StopPodSandbox and RemovePodSandbox. Every
// attempt is one line of the results file (phase, ok/fail, start time,
// cause, evidence file); a failed one's evidence (the error, containerd's
// log, the pods' VMM logs and consoles) goes to a file of its own. Ctrl-C
// ends the run after the pods in flight, which are removed like the others.
// Exit status 0 when every attempt succeeded, 1 when one failed.
// Not a test.

#include <fmt/format.h>
#include <fmt/os.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/rig/containerd/containerd_harness.h"
#include "tools/bench/failure_cause.h"
#include "tools/cri/cri_client.h"
#include "tools/cri/pod_start_bench.h"

namespace {

using namespace std::chrono_literals;
using namespace vmrt;
using Clock = std::chrono::steady_clock;
using containerd_test::Containerd;

std::atomic<bool> interrupted{false};

void on_signal(int) { interrupted = true; }

struct Attempt {
  bool ok = false;
  double start_ms = 0;  // RunPodSandbox sent -> StartContainer answered
  std::string cause;
  std::string evidence;
};

// The results file and the evidence directory, shared by the threads of a
// concurrent batch.
class Results {
 public:
  Results(std::filesystem::path file, std::filesystem::path evidence_dir)
      : file_(std::move(file)), dir_(std::move(evidence_dir)) {
    std::filesystem::create_directories(dir_);
  }

  bool any_failed() {
    std::lock_guard lock(mutex_);
    return any_failed_;
  }

  void record(const std::string& phase, const Attempt& a) {
    std::lock_guard lock(mutex_);
    std::string evidence;
    if (!a.ok) {
      any_failed_ = true;
      // Not over an earlier run's (tools/testvm may run the soak again).
      do evidence = (dir_ / fmt::format("{}-{}.txt", phase, ++failures_)).string();
      while (std::filesystem::exists(evidence));
      std::ofstream(evidence) << "cause: " << a.cause << "\n\n" << a.evidence << "\n";
    }
    std::ofstream(file_, std::ios::app) << fmt::format(
        "{}\t{}\t{:.0f}\t{}\t{}\n", phase, a.ok ? "ok" : "fail", a.start_ms, a.cause, evidence);
    fmt::print("{} {}{}\n", phase,
               a.ok ? fmt::format("ok {:.0f} ms", a.start_ms) : "FAILED: ", a.cause);
    std::fflush(stdout);
  }

 private:
  std::filesystem::path file_, dir_;
  std::mutex mutex_;
  int failures_ = 0;  // evidence files numbered so far
  bool any_failed_ = false;
};

// Which call a CallError came from and its status name, from its message
// ("RunPodSandbox: UNAVAILABLE: ...").
std::string grpc_status_of(const cri::CallError& e) {
  std::string_view rest = std::string_view(e.what()).substr(e.method().size() + 2);
  return std::string(rest.substr(0, rest.find(": ")));
}

// Inside tools/testvm, L1 records each guest shutdown and failed VM entry,
// the rig's own faults among them (tools/rig/world_switch_watch.py).
constexpr const char* kRigRecords = "/run/testvm/world-switch.log";

// The records' lines from the first-th on (all of them, from 0).
std::vector<std::string> rig_records(size_t first = 0) {
  std::vector<std::string> lines;
  std::ifstream in(kRigRecords);
  size_t n = 0;
  for (std::string line; std::getline(in, line); ++n)
    if (n >= first) lines.push_back(line);
  return lines;
}

// One pod's whole life. Whatever fails, the pod is stopped and removed
// before this returns; a failure to do so is the attempt's failure.
// The host kernel's last messages: an OOM kill, a KVM warning, a stall.
std::string kernel_log_tail() {
  std::string out = "kernel log ends with:\n";
  if (FILE* p = ::popen("dmesg 2>/dev/null | tail -n 60", "r")) {
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

// One pod's life under runtime `handler`: vmrt, or with --hypervisor a
// variant of it whose configuration has those lines added.
Attempt pod_life(cri::Client& client, const Containerd& containerd, const std::string& handler,
                 const std::string& run, const std::string& name) {
  cri::PodStartBenchOptions o;
  o.runtime_handler = handler;
  o.image = containerd_test::kBusyboxImage;
  o.argv = {"sleep", "3600"};
  o.pod_namespace = "vmrt-soak";
  auto [pod, container] = cri::bench_pod_requests(o, run, name);

  Attempt a;
  bench::FailureEvidence e;
  std::string pod_id;
  const size_t records_before = rig_records().size();
  auto t0 = Clock::now();
  try {
    e.call = "RunPodSandbox";
    pod_id = client.run_pod_sandbox(pod, o.runtime_handler);
    e.call = "CreateContainer";
    std::string id = client.create_container(pod_id, container, pod);
    e.call = "StartContainer";
    client.start_container(id);
    a.start_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    e.call = "ExecSync";
    auto r = client.exec_sync(id, {"true"}, 120s);
    if (r.exit_code() != 0) {
      e.exit_status = r.exit_code();
      e.error = r.stderr();
    }
  } catch (const cri::CallError& err) {
    e.error = err.status_message();
    e.grpc_status = grpc_status_of(err);
  } catch (const std::exception& err) {
    e.error = *err.what() ? err.what() : "failed";  // nonempty: it is the failure
  }
  bool failed = !e.error.empty() || !e.grpc_status.empty() || e.exit_status != 0;
  // The VMs' logs go with their pods: read them first.
  std::string report = failed ? containerd.hang_report() : "";
  if (!pod_id.empty()) {
    const char* step = "StopPodSandbox";
    try {
      client.stop_pod_sandbox(pod_id);
      step = "RemovePodSandbox";
      client.remove_pod_sandbox(pod_id);
    } catch (const std::exception& err) {
      if (!failed) {
        e.call = step;
        auto* call_error = dynamic_cast<const cri::CallError*>(&err);
        e.error = call_error ? call_error->status_message() : err.what();
        e.grpc_status = call_error ? grpc_status_of(*call_error) : "";
        report = containerd.hang_report();
        failed = true;
      }
      report += fmt::format("\nremoving pod {}: {}\n", pod_id, err.what());
    }
  }
  if (!failed) {
    a.ok = true;
    return a;
  }
  if (e.exit_status != 0 && e.grpc_status.empty() && e.call == "ExecSync") e.call = "exec true";
  // The VMM's end reason is in its log, which the shim's error may not carry;
  // what the rig recorded meanwhile says whether it lost the VM.
  // A record comes through L1's trace buffer a moment after its VM ended.
  if (std::filesystem::exists(kRigRecords)) std::this_thread::sleep_for(1s);
  for (const auto& line : rig_records(records_before)) report += line + "\n";
  e.log = report;
  a.cause = bench::failure_cause(e);
  report += kernel_log_tail();
  a.evidence = fmt::format("pod {} ({}), failed at {}: {}{}\n\n{}", name,
                           pod_id.empty() ? "no pod id" : pod_id, e.call,
                           e.grpc_status.empty() ? "" : e.grpc_status + ": ", e.error, report);
  return a;
}

// What is left of the run's pods once all are done: pods the CRI plugin
// still lists, then what containerd's harness finds (shims, VMMs, sandbox
// directories, mounts). Each is a failure; the pods are removed.
void check_leftovers(cri::Client& client, const Containerd& containerd, const std::string& run,
                     Results& results) {
  cri::v1::PodSandboxFilter f;
  (*f.mutable_label_selector())[cri::kBenchRunLabel] = run;
  try {
    for (const auto& p : client.list_pod_sandbox(f)) {
      results.record("cleanup", {false, 0, "left behind: CRI pod", "pod " + p.id()});
      client.stop_pod_sandbox(p.id());
      client.remove_pod_sandbox(p.id());
    }
  } catch (const std::exception& err) {
    results.record("cleanup", {false, 0, "removing leftover pods failed", err.what()});
  }
  for (const auto& l : containerd.leftovers())
    results.record("cleanup", {false, 0, bench::leftover_cause(l), l});
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"pods through containerd's CRI for runtime handler vmrt, failures counted by cause"};
  int pods = 100, concurrent = 10, batches = 1;
  std::filesystem::path results_file, evidence_dir, phase_file;
  app.add_option("--pods", pods, "pods one after another")->capture_default_str();
  app.add_option("--concurrent", concurrent, "pods started at once per batch")
      ->capture_default_str();
  app.add_option("--batches", batches, "batches of concurrent pods")->capture_default_str();
  app.add_option("--results", results_file, "results file (appended to)")->required();
  app.add_option("--evidence", evidence_dir, "directory for failures' evidence")->required();
  app.add_option("--phase-file", phase_file, "file to write each phase's name to as it begins");
  std::string hypervisor;
  app.add_option("--hypervisor", hypervisor,
                 "TOML lines for the [hypervisor] table of the build's runtime configuration "
                 "(e.g. 'template_memory = \"private\"'): the pods run under a handler with them");
  CLI11_PARSE(app, argc, argv);

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  Results results(results_file, evidence_dir);
  try {
    Containerd::Options options;
    const std::string handler = hypervisor.empty() ? "vmrt" : "vmrt-soak";
    if (!hypervisor.empty()) options.vmrt_variants[handler] = hypervisor + "\n";
    Containerd containerd(options);
    containerd.import_images(containerd_test::kCriNamespace);
    cri::Client client(containerd.cri_endpoint(), 300s);
    client.wait_ready(60s);
    std::string run = cri::random_hex_id().substr(0, 8);
    auto begin = [&](const char* phase) {
      if (!phase_file.empty()) std::ofstream(phase_file, std::ios::trunc) << phase << "\n";
    };
    begin("cri-sequential");
    for (int i = 0; i < pods && !interrupted; ++i)
      results.record("cri-sequential",
                     pod_life(client, containerd, handler, run, fmt::format("seq-{}", i)));
    begin("cri-concurrent");
    for (int b = 0; b < batches && !interrupted; ++b) {
      std::vector<std::jthread> threads;
      for (int i = 0; i < concurrent; ++i)
        threads.emplace_back([&, b, i] {
          results.record("cri-concurrent", pod_life(client, containerd, handler, run,
                                                    fmt::format("batch-{}-{}", b, i)));
        });
    }
    begin("cleanup");
    check_leftovers(client, containerd, run, results);
  } catch (const std::exception& e) {
    // containerd did not come up, or the run broke off: a failure of its own.
    results.record("cri-setup",
                   {false, 0, "soak driver: " + std::string(e.what()).substr(0, 100), e.what()});
    return 1;
  }
  return interrupted ? 130 : results.any_failed() ? 1 : 0;
}
