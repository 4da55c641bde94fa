#pragma once
// Pod start latency through CRI as kubelet sees it: the time from sending
// RunPodSandbox to StartContainer's answer for a one-container pod, pod
// after pod, so that runtime handlers (vmrt, runc) can be compared in one
// run on the same containerd.

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tools/cri/cri_client.h"
#include "tools/cri/cri_config.h"

namespace vmrt::cri {

struct PodStartBenchOptions {
  std::string runtime_handler;
  std::string image;
  int count = 1;
  // Pods started and removed before the measured ones: the first start
  // after containerd came up also pays for cold caches and the image's
  // first snapshot.
  int warmup = 0;
  bool host_network = true;
  // Leave the measured pods running (to measure their memory, say) instead
  // of stopping and removing each once it has been timed.
  bool keep = false;
  std::string pod_namespace = "vmrt-bench";
  // The container's command; empty: the image's own.
  std::vector<std::string> argv;
};

struct PodStartTiming {
  std::string pod_id;
  std::string container_id;
  double run_pod_sandbox_ms = 0;
  double create_container_ms = 0;
  double start_container_ms = 0;
  double total_ms = 0;  // RunPodSandbox sent -> StartContainer answered
  // StopPodSandbox + RemovePodSandbox, not part of total; 0 with keep.
  double teardown_ms = 0;
};

// Label on every benchmark pod; its value names the run ("run" in the JSON),
// so that kept pods can be found and removed: pods -q --label KEY=RUN.
inline constexpr const char* kBenchRunLabel = "vmrt-cri.bench-run";

// The RunPodSandbox and CreateContainer requests of one benchmark pod named
// `name` in run `run` (also for tools that drive pods step by step).
struct BenchPodRequests {
  v1::PodSandboxConfig pod;
  v1::ContainerConfig container;
};
BenchPodRequests bench_pod_requests(const PodStartBenchOptions& options, const std::string& run,
                                    const std::string& name);

struct PodStartBenchResult {
  std::string run;
  std::vector<PodStartTiming> pods;
  Summary total;
};

// Runs the benchmark; `progress` (may be empty) sees each measured pod as it
// is done. A failing pod is torn down and its error rethrown, naming its
// place in the run; pods kept so far stay.
PodStartBenchResult bench_pod_start(Client& client, const PodStartBenchOptions& options,
                                    const std::function<void(const PodStartTiming&)>& progress);

nlohmann::json bench_json(const PodStartBenchOptions& options, const PodStartBenchResult& result);
std::string bench_table(const PodStartBenchOptions& options, const PodStartBenchResult& result);

}  // namespace vmrt::cri
