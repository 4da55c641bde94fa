// The CRI client and the pod start benchmark against an in-process fake
// RuntimeService on a Unix socket: what goes over the wire, how failures
// and deadlines are reported, and that a benchmark leaves no pod behind.

#include "tools/cri/cri_client.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "common/tempdir.h"
#include "tools/cri/pod_start_bench.h"

namespace vmrt::cri {
namespace {

using namespace std::chrono_literals;

class FakeRuntime final : public v1::RuntimeService::Service {
 public:
  std::mutex mu;
  std::vector<v1::RunPodSandboxRequest> runs;
  std::vector<v1::CreateContainerRequest> creates;
  std::vector<std::string> started, stopped_pods, removed_pods;
  v1::ExecSyncRequest last_exec;
  int status_calls = 0;
  int ready_after = 0;  // Status says RuntimeReady from this call on (-1: never)
  std::chrono::milliseconds start_delay{0};

  grpc::Status Version(grpc::ServerContext*, const v1::VersionRequest* req,
                       v1::VersionResponse* resp) override {
    resp->set_version(req->version());
    resp->set_runtime_name("fake");
    return grpc::Status::OK;
  }

  grpc::Status Status(grpc::ServerContext*, const v1::StatusRequest*,
                      v1::StatusResponse* resp) override {
    std::lock_guard lock(mu);
    int n = status_calls++;
    auto* c = resp->mutable_status()->add_conditions();
    c->set_type("RuntimeReady");
    c->set_status(ready_after >= 0 && n >= ready_after);
    c->set_reason("Starting");
    return grpc::Status::OK;
  }

  grpc::Status RunPodSandbox(grpc::ServerContext*, const v1::RunPodSandboxRequest* req,
                             v1::RunPodSandboxResponse* resp) override {
    if (req->runtime_handler() == "bad")
      return {grpc::StatusCode::NOT_FOUND, "no runtime for \"bad\" is configured"};
    std::lock_guard lock(mu);
    runs.push_back(*req);
    resp->set_pod_sandbox_id("pod-" + std::to_string(runs.size()));
    return grpc::Status::OK;
  }

  grpc::Status StopPodSandbox(grpc::ServerContext*, const v1::StopPodSandboxRequest* req,
                              v1::StopPodSandboxResponse*) override {
    std::lock_guard lock(mu);
    stopped_pods.push_back(req->pod_sandbox_id());
    return grpc::Status::OK;
  }

  grpc::Status RemovePodSandbox(grpc::ServerContext*, const v1::RemovePodSandboxRequest* req,
                                v1::RemovePodSandboxResponse*) override {
    std::lock_guard lock(mu);
    removed_pods.push_back(req->pod_sandbox_id());
    return grpc::Status::OK;
  }

  grpc::Status CreateContainer(grpc::ServerContext*, const v1::CreateContainerRequest* req,
                               v1::CreateContainerResponse* resp) override {
    if (req->config().image().image() == "missing")
      return {grpc::StatusCode::NOT_FOUND, "failed to resolve image \"missing\": not found"};
    std::lock_guard lock(mu);
    creates.push_back(*req);
    resp->set_container_id("ctr-" + std::to_string(creates.size()));
    return grpc::Status::OK;
  }

  grpc::Status StartContainer(grpc::ServerContext* ctx, const v1::StartContainerRequest* req,
                              v1::StartContainerResponse*) override {
    auto until = std::chrono::steady_clock::now() + start_delay;
    while (std::chrono::steady_clock::now() < until && !ctx->IsCancelled())
      std::this_thread::sleep_for(10ms);
    std::lock_guard lock(mu);
    started.push_back(req->container_id());
    return grpc::Status::OK;
  }

  grpc::Status ExecSync(grpc::ServerContext*, const v1::ExecSyncRequest* req,
                        v1::ExecSyncResponse* resp) override {
    std::lock_guard lock(mu);
    last_exec = *req;
    resp->set_stdout("out:" + req->cmd(0));
    resp->set_stderr("err");
    resp->set_exit_code(3);
    return grpc::Status::OK;
  }

  grpc::Status ContainerStats(grpc::ServerContext*, const v1::ContainerStatsRequest* req,
                              v1::ContainerStatsResponse* resp) override {
    resp->mutable_stats()->mutable_attributes()->set_id(req->container_id());
    resp->mutable_stats()->mutable_memory()->mutable_working_set_bytes()->set_value(1 << 20);
    return grpc::Status::OK;
  }

  grpc::Status ListContainers(grpc::ServerContext*, const v1::ListContainersRequest* req,
                              v1::ListContainersResponse* resp) override {
    auto* c = resp->add_containers();
    c->set_id("ctr-1");
    c->set_pod_sandbox_id(req->filter().pod_sandbox_id());
    c->set_state(req->filter().state().state());
    return grpc::Status::OK;
  }
};

class CriClientTest : public ::testing::Test {
 protected:
  static PodStartBenchOptions bench_options(const std::string& image, int count, int warmup) {
    PodStartBenchOptions o;
    o.runtime_handler = "vmrt";
    o.image = image;
    o.count = count;
    o.warmup = warmup;
    return o;
  }

  void SetUp() override {
    socket_ = (dir_.path() / "cri.sock").string();
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + socket_, grpc::InsecureServerCredentials());
    builder.RegisterService(&fake_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override { server_->Shutdown(std::chrono::system_clock::now() + 1s); }

  TempDir dir_{"vmrt-cri-test"};
  std::string socket_;
  FakeRuntime fake_;
  std::unique_ptr<grpc::Server> server_;
};

TEST(CriEndpoint, PathsAndUnixUrls) {
  EXPECT_EQ(grpc_target("/run/containerd/containerd.sock"), "unix:/run/containerd/containerd.sock");
  EXPECT_EQ(grpc_target("unix:///run/c.sock"), "unix:///run/c.sock");
  EXPECT_EQ(grpc_target("rel.sock"), "unix:rel.sock");
}

TEST_F(CriClientTest, PodLifeOverTheWire) {
  Client c(socket_);
  EXPECT_EQ(c.version().runtime_name(), "fake");
  v1::PodSandboxConfig pod;
  pod.mutable_metadata()->set_name("p");
  std::string pod_id = c.run_pod_sandbox(pod, "vmrt");
  EXPECT_EQ(pod_id, "pod-1");
  v1::ContainerConfig ctr;
  ctr.mutable_metadata()->set_name("c");
  ctr.mutable_image()->set_image("img");
  std::string id = c.create_container(pod_id, ctr, pod);
  c.start_container(id);
  auto exec = c.exec_sync(id, {"echo", "hi"}, 5s);
  EXPECT_EQ(exec.stdout(), "out:echo");
  EXPECT_EQ(exec.stderr(), "err");
  EXPECT_EQ(exec.exit_code(), 3);
  EXPECT_EQ(c.container_stats(id).memory().working_set_bytes().value(), 1u << 20);
  v1::ContainerFilter filter;
  filter.set_pod_sandbox_id(pod_id);
  filter.mutable_state()->set_state(v1::CONTAINER_RUNNING);
  auto list = c.list_containers(filter);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].pod_sandbox_id(), pod_id);
  EXPECT_EQ(list[0].state(), v1::CONTAINER_RUNNING);
  c.stop_pod_sandbox(pod_id);
  c.remove_pod_sandbox(pod_id);

  std::lock_guard lock(fake_.mu);
  ASSERT_EQ(fake_.runs.size(), 1u);
  EXPECT_EQ(fake_.runs[0].runtime_handler(), "vmrt");
  EXPECT_EQ(fake_.runs[0].config().metadata().name(), "p");
  ASSERT_EQ(fake_.creates.size(), 1u);
  EXPECT_EQ(fake_.creates[0].pod_sandbox_id(), "pod-1");
  EXPECT_EQ(fake_.creates[0].sandbox_config().metadata().name(), "p");
  EXPECT_EQ(fake_.started, std::vector<std::string>{"ctr-1"});
  EXPECT_EQ(fake_.last_exec.timeout(), 5);
  EXPECT_EQ(fake_.stopped_pods, std::vector<std::string>{"pod-1"});
  EXPECT_EQ(fake_.removed_pods, std::vector<std::string>{"pod-1"});
}

TEST_F(CriClientTest, FailedCallNamesMethodAndStatus) {
  Client c(socket_);
  try {
    c.run_pod_sandbox({}, "bad");
    FAIL() << "no error";
  } catch (const CallError& e) {
    EXPECT_STREQ(e.what(), "RunPodSandbox: NOT_FOUND: no runtime for \"bad\" is configured");
    EXPECT_EQ(e.method(), "RunPodSandbox");
    EXPECT_EQ(e.status_code(), grpc::StatusCode::NOT_FOUND);
  }
}

TEST_F(CriClientTest, CallsHaveDeadlines) {
  fake_.start_delay = 5s;
  Client c(socket_, 200ms);
  auto t0 = std::chrono::steady_clock::now();
  try {
    c.start_container("ctr-1");
    FAIL() << "no error";
  } catch (const CallError& e) {
    EXPECT_EQ(e.status_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << e.what();
    EXPECT_EQ(std::string(e.what()).rfind("StartContainer: DEADLINE_EXCEEDED", 0), 0u);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST(CriClient, MissingSocketIsUnavailable) {
  TempDir dir("vmrt-cri-test");
  Client c((dir.path() / "none.sock").string(), 2s);
  try {
    c.version();
    FAIL() << "no error";
  } catch (const CallError& e) {
    EXPECT_EQ(e.status_code(), grpc::StatusCode::UNAVAILABLE) << e.what();
    EXPECT_EQ(std::string(e.what()).rfind("Version: UNAVAILABLE: ", 0), 0u) << e.what();
  }
}

TEST_F(CriClientTest, WaitReadyPollsUntilRuntimeReady) {
  fake_.ready_after = 3;
  Client c(socket_);
  c.wait_ready(5s);
  std::lock_guard lock(fake_.mu);
  EXPECT_EQ(fake_.status_calls, 4);
}

TEST_F(CriClientTest, WaitReadyGivesUpWithTheLastCondition) {
  fake_.ready_after = -1;
  Client c(socket_);
  try {
    c.wait_ready(300ms);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("RuntimeReady is false (Starting"), std::string::npos)
        << e.what();
  }
}

TEST_F(CriClientTest, BenchTimesPodsAndRemovesThem) {
  Client c(socket_);
  PodStartBenchOptions o = bench_options("img", 3, 1);
  o.argv = {"sleep", "100"};
  int seen = 0;
  auto r = bench_pod_start(c, o, [&](const PodStartTiming&) { ++seen; });
  EXPECT_EQ(seen, 3);
  ASSERT_EQ(r.pods.size(), 3u);
  EXPECT_EQ(r.run.size(), 8u);
  for (const auto& t : r.pods) {
    EXPECT_GE(t.total_ms,
              t.run_pod_sandbox_ms + t.create_container_ms + t.start_container_ms - 0.001);
    EXPECT_GT(t.total_ms, 0);
  }
  EXPECT_EQ(r.pods[0].pod_id, "pod-2");  // pod-1 was the warmup
  EXPECT_GE(r.total.max, r.total.median);

  std::lock_guard lock(fake_.mu);
  ASSERT_EQ(fake_.runs.size(), 4u);
  EXPECT_EQ(fake_.removed_pods.size(), 4u);
  EXPECT_EQ(fake_.stopped_pods.size(), 4u);
  const auto& run = fake_.runs[1];
  EXPECT_EQ(run.runtime_handler(), "vmrt");
  EXPECT_EQ(run.config().metadata().namespace_(), "vmrt-bench");
  EXPECT_EQ(run.config().metadata().name(), "bench-" + r.run + "-0");
  EXPECT_EQ(run.config().labels().at(kBenchRunLabel), r.run);
  EXPECT_EQ(run.config().linux().security_context().namespace_options().network(), v1::NODE);
  const auto& create = fake_.creates[1];
  EXPECT_EQ(create.config().image().image(), "img");
  EXPECT_EQ(create.config().command(0), "sleep");
  EXPECT_EQ(create.config().linux().security_context().namespace_options().network(), v1::NODE);
  EXPECT_EQ(create.sandbox_config().metadata().uid(), run.config().metadata().uid());

  auto j = bench_json(o, r);
  EXPECT_EQ(j["pods"].size(), 3u);
  EXPECT_EQ(j["runtime_handler"], "vmrt");
  EXPECT_DOUBLE_EQ(j["median_ms"].get<double>(), r.total.median);
  EXPECT_NE(bench_table(o, r).find("3 pods: median"), std::string::npos);
}

TEST_F(CriClientTest, BenchKeepLeavesMeasuredPodsOnly) {
  Client c(socket_);
  PodStartBenchOptions o = bench_options("img", 2, 1);
  o.keep = true;
  auto r = bench_pod_start(c, o, {});
  EXPECT_EQ(r.pods[0].teardown_ms, 0);
  std::lock_guard lock(fake_.mu);
  EXPECT_EQ(fake_.runs.size(), 3u);
  EXPECT_EQ(fake_.removed_pods, std::vector<std::string>{"pod-1"});
}

TEST_F(CriClientTest, BenchFailureTearsThePodDownAndSaysWhere) {
  Client c(socket_);
  PodStartBenchOptions o = bench_options("missing", 2, 0);
  try {
    bench_pod_start(c, o, {});
    FAIL() << "no error";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("measured pod 1 of 2 (runtime handler \"vmrt\"): CreateContainer: "
                        "NOT_FOUND: failed to resolve image"),
              std::string::npos)
        << what;
  }
  std::lock_guard lock(fake_.mu);
  EXPECT_EQ(fake_.removed_pods, std::vector<std::string>{"pod-1"});
}

}  // namespace
}  // namespace vmrt::cri
