#include "tools/cri/pod_start_bench.h"

#include <fmt/format.h>

#include <chrono>

#include "common/error.h"

namespace vmrt::cri {

namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Best effort: the pod is being abandoned because of an earlier error,
// which is the one to report.
void teardown_quietly(Client& client, const std::string& pod_id) {
  try {
    client.stop_pod_sandbox(pod_id);
    client.remove_pod_sandbox(pod_id);
  } catch (const std::exception&) {
  }
}

}  // namespace

BenchPodRequests bench_pod_requests(const PodStartBenchOptions& o, const std::string& run,
                                    const std::string& name) {
  PodFlags pf;
  pf.name = name;
  pf.labels.push_back(fmt::format("{}={}", kBenchRunLabel, run));
  pf.namespace_ = o.pod_namespace;
  pf.host_network = o.host_network;
  BenchPodRequests r;
  apply_pod_flags(pf, r.pod);

  ContainerFlags cf;
  cf.name = "bench";
  cf.image = o.image;
  cf.argv = o.argv;
  apply_container_flags(cf, r.container);
  inherit_pod_namespaces(r.pod, r.container);
  return r;
}

namespace {

PodStartTiming start_one(Client& client, const PodStartBenchOptions& o, const std::string& run,
                         const std::string& name) {
  auto [pod, container] = bench_pod_requests(o, run, name);

  PodStartTiming t;
  auto t0 = Clock::now();
  t.pod_id = client.run_pod_sandbox(pod, o.runtime_handler);
  try {
    auto t1 = Clock::now();
    t.container_id = client.create_container(t.pod_id, container, pod);
    auto t2 = Clock::now();
    client.start_container(t.container_id);
    auto t3 = Clock::now();
    t.run_pod_sandbox_ms = ms_between(t0, t1);
    t.create_container_ms = ms_between(t1, t2);
    t.start_container_ms = ms_between(t2, t3);
    t.total_ms = ms_between(t0, t3);
  } catch (...) {
    teardown_quietly(client, t.pod_id);
    throw;
  }
  return t;
}

}  // namespace

PodStartBenchResult bench_pod_start(Client& client, const PodStartBenchOptions& o,
                                    const std::function<void(const PodStartTiming&)>& progress) {
  if (o.count < 1) fail("the pod count must be at least 1, not {}", o.count);
  if (o.warmup < 0) fail("the warmup count cannot be negative");
  if (o.image.empty()) fail("the benchmark needs an image");
  // Pod names must be unique within containerd; a run's tag keeps two runs
  // (or a kept run and a new one) apart.
  PodStartBenchResult result;
  result.run = random_hex_id().substr(0, 8);
  const std::string& run = result.run;
  std::vector<double> totals;
  for (int i = 0; i < o.warmup + o.count; ++i) {
    bool warm = i < o.warmup;
    std::string name = warm ? fmt::format("bench-{}-warmup-{}", run, i)
                            : fmt::format("bench-{}-{}", run, i - o.warmup);
    PodStartTiming t;
    try {
      t = start_one(client, o, run, name);
      if (warm || !o.keep) {
        auto a = Clock::now();
        client.stop_pod_sandbox(t.pod_id);
        client.remove_pod_sandbox(t.pod_id);
        t.teardown_ms = ms_between(a, Clock::now());
      }
    } catch (const std::exception& e) {
      if (!t.pod_id.empty()) teardown_quietly(client, t.pod_id);
      fail("run {}, {} pod {} of {} (runtime handler \"{}\"): {}", run,
           warm ? "warmup" : "measured", (warm ? i : i - o.warmup) + 1, warm ? o.warmup : o.count,
           o.runtime_handler, e.what());
    }
    if (warm) continue;
    totals.push_back(t.total_ms);
    result.pods.push_back(t);
    if (progress) progress(t);
  }
  result.total = summarize(totals);
  return result;
}

nlohmann::json bench_json(const PodStartBenchOptions& o, const PodStartBenchResult& r) {
  nlohmann::json pods = nlohmann::json::array();
  for (const auto& t : r.pods) {
    pods.push_back({{"pod_id", t.pod_id},
                    {"container_id", t.container_id},
                    {"run_pod_sandbox_ms", t.run_pod_sandbox_ms},
                    {"create_container_ms", t.create_container_ms},
                    {"start_container_ms", t.start_container_ms},
                    {"total_ms", t.total_ms},
                    {"teardown_ms", t.teardown_ms}});
  }
  return {{"run", r.run},
          {"runtime_handler", o.runtime_handler},
          {"image", o.image},
          {"count", o.count},
          {"warmup", o.warmup},
          {"host_network", o.host_network},
          {"kept", o.keep},
          {"pods", pods},
          {"median_ms", r.total.median},
          {"min_ms", r.total.min},
          {"max_ms", r.total.max},
          {"mean_ms", r.total.mean}};
}

std::string bench_table(const PodStartBenchOptions& o, const PodStartBenchResult& r) {
  std::string out = fmt::format("{:<4} {:>10} {:>10} {:>10} {:>10} {:>10}  {}\n", "POD", "RUNP_MS",
                                "CREATE_MS", "START_MS", "TOTAL_MS", "TEARDN_MS", "POD_ID");
  int i = 0;
  for (const auto& t : r.pods) {
    out += fmt::format("{:<4} {:>10.1f} {:>10.1f} {:>10.1f} {:>10.1f} {:>10.1f}  {}\n", i++,
                       t.run_pod_sandbox_ms, t.create_container_ms, t.start_container_ms,
                       t.total_ms, t.teardown_ms, t.pod_id);
  }
  out += fmt::format(
      "run {}, runtime handler \"{}\", {} pods: median {:.1f} ms, min {:.1f}, max {:.1f}, mean "
      "{:.1f}\n",
      r.run, o.runtime_handler, r.pods.size(), r.total.median, r.total.min, r.total.max,
      r.total.mean);
  return out;
}

}  // namespace vmrt::cri
