// The shim's task state machine (shim/pod_tasks.cpp) as containerd drives
// it, over a fake VM: the events containerd hears, the states and exit
// statuses it reads, and what reaches the VM, for each step of a task's
// life, without booting anything.

#include "shim/pod_tasks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <fstream>
#include <future>
#include <nlohmann/json.hpp>

#include "common/tempdir.h"
#include "common/ttrpc/status.h"
#include "tests/support/minimal_spec.h"
#include "tests/unit/shim/fake_pod_vm.h"

namespace vmrt::shim {
namespace {

namespace fs = std::filesystem;
using containerd::v1::types::Status;
using test::FakePodVm;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class RecordedEvents : public EventSink {
 public:
  void publish(const std::string& topic, const google::protobuf::MessageLite& event) override {
    std::lock_guard lock(mu_);
    topics_.push_back(topic);
    if (topic == "/tasks/exit") {
      containerd::events::TaskExit e;
      e.ParseFromString(event.SerializeAsString());
      exits_.push_back(e);
    }
  }
  std::vector<std::string> take_topics() {
    std::lock_guard lock(mu_);
    return std::exchange(topics_, {});
  }
  std::vector<containerd::events::TaskExit> exits() {
    std::lock_guard lock(mu_);
    return exits_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> topics_;
  std::vector<containerd::events::TaskExit> exits_;
};

class PodTasksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir.path() / "config.toml") << "";
    ::setenv("VMRT_CONFIG", (dir.path() / "config.toml").c_str(), 1);
  }
  void TearDown() override { ::unsetenv("VMRT_CONFIG"); }

  // A bundle for task `id`, in pod `pod` (CRI's annotations) unless it is
  // the pod's own task.
  task::CreateTaskRequest create_request(const std::string& id, const std::string& pod) {
    fs::path bundle = dir.path() / id;
    nlohmann::json annotations = nlohmann::json::object();
    if (id != pod)
      annotations = {{"io.kubernetes.cri.container-type", "container"},
                     {"io.kubernetes.cri.sandbox-id", pod}};
    vmrt::test::write_minimal_spec(bundle, annotations);
    fs::create_directories(bundle / "rootfs");
    task::CreateTaskRequest r;
    r.set_id(id);
    r.set_bundle(bundle.string());
    return r;
  }
  void create(const std::string& id, const std::string& pod) {
    tasks.create(create_request(id, pod));
  }
  void start(const std::string& id, const std::string& exec_id = "") {
    task::StartRequest r;
    r.set_id(id);
    r.set_exec_id(exec_id);
    tasks.start(r);
  }
  task::StateResponse state(const std::string& id, const std::string& exec_id = "") {
    task::StateRequest r;
    r.set_id(id);
    r.set_exec_id(exec_id);
    return tasks.state(r);
  }
  task::DeleteResponse remove(const std::string& id, const std::string& exec_id = "") {
    task::DeleteRequest r;
    r.set_id(id);
    r.set_exec_id(exec_id);
    return tasks.remove(r);
  }
  void kill(const std::string& id, uint32_t sig, const std::string& exec_id = "") {
    task::KillRequest r;
    r.set_id(id);
    r.set_exec_id(exec_id);
    r.set_signal(sig);
    tasks.kill(r);
  }
  uint32_t wait(const std::string& id, const std::string& exec_id = "") {
    task::WaitRequest r;
    r.set_id(id);
    r.set_exec_id(exec_id);
    return tasks.wait(r, {}).exit_status();
  }
  static ttrpc::Code code_of(const std::function<void()>& fn) {
    try {
      fn();
    } catch (const ttrpc::StatusError& e) {
      return e.status_code();
    }
    return ttrpc::Code::Ok;
  }

  TempDir dir{"pod-tasks"};
  RecordedEvents events;
  std::shared_ptr<FakePodVm::Shared> vm = std::make_shared<FakePodVm::Shared>();
  PodTasks tasks{"ns", events, [this](PodVmOptions o) {
                   EXPECT_EQ(o.pod, "pod");
                   ++vm->boots;
                   return std::make_unique<FakePodVm>(vm);
                 }};
};

TEST_F(PodTasksTest, ThePodsFirstTaskBootsTheVmAndItsOthersJoinIt) {
  create("pod", "pod");
  create("c1", "pod");
  EXPECT_EQ(vm->boots, 1);
  EXPECT_THAT(vm->take_calls(), ElementsAre("create pod", "create c1"));
  EXPECT_EQ(state("c1").status(), Status::CREATED);
  EXPECT_EQ(state("c1").pid(), 4242u) << "every task reports the VMM";
  EXPECT_THAT(events.take_topics(), ElementsAre("/tasks/create", "/tasks/create"));
  EXPECT_EQ(code_of([&] { create("c1", "pod"); }), ttrpc::Code::AlreadyExists);
  EXPECT_EQ(code_of([&] { create("other", "other-pod"); }), ttrpc::Code::InvalidArgument);
}

TEST_F(PodTasksTest, ATaskOfAPodWithoutItsSandboxIsRefused) {
  EXPECT_EQ(code_of([&] { create("c1", "pod"); }), ttrpc::Code::FailedPrecondition);
  EXPECT_EQ(vm->boots, 0);
}

TEST_F(PodTasksTest, StartRunsTheTaskAndItsExitReachesWaitersAndEvents) {
  create("pod", "pod");
  start("pod");
  EXPECT_EQ(state("pod").status(), Status::RUNNING);
  EXPECT_EQ(code_of([&] { start("pod"); }), ttrpc::Code::FailedPrecondition);
  auto waiter = std::async(std::launch::async, [&] { return wait("pod"); });
  vm->end("pod/", {3, "", true});
  EXPECT_EQ(waiter.get(), 3u);
  EXPECT_EQ(state("pod").status(), Status::STOPPED);
  EXPECT_EQ(state("pod").exit_status(), 3u);
  EXPECT_THAT(events.take_topics(), ElementsAre("/tasks/create", "/tasks/start", "/tasks/exit"));
  EXPECT_EQ(remove("pod").exit_status(), 3u);
  EXPECT_TRUE(vm->vm_destroyed) << "the pod's last task took its VM along";
}

TEST_F(PodTasksTest, AStartTheAgentRefusesEndsTheProcessAsNotFound) {
  create("pod", "pod");
  vm->fail_start = "pod";
  EXPECT_THROW(start("pod"), sandbox::AgentError);
  EXPECT_EQ(state("pod").status(), Status::STOPPED);
  EXPECT_EQ(wait("pod"), 127u);
}

TEST_F(PodTasksTest, AnExecRunsBesideItsTaskAndEndsOnItsOwn) {
  create("pod", "pod");
  start("pod");
  task::ExecProcessRequest r;
  r.set_id("pod");
  r.set_exec_id("e1");
  r.mutable_spec()->set_value(R"({"args":["true"]})");
  tasks.exec(r);
  EXPECT_EQ(code_of([&] { tasks.exec(r); }), ttrpc::Code::AlreadyExists);
  EXPECT_EQ(code_of([&] { kill("pod", SIGTERM, "e1"); }), ttrpc::Code::FailedPrecondition)
      << "an exec not yet started";
  start("pod", "e1");
  EXPECT_EQ(state("pod", "e1").status(), Status::RUNNING);
  vm->end("pod/e1", {0, "", true});
  EXPECT_EQ(wait("pod", "e1"), 0u);
  EXPECT_EQ(state("pod").status(), Status::RUNNING) << "the task's init still runs";
  remove("pod", "e1");
  EXPECT_EQ(code_of([&] { state("pod", "e1"); }), ttrpc::Code::NotFound);
  EXPECT_THAT(events.take_topics(),
              ElementsAre("/tasks/create", "/tasks/start", "/tasks/exec-added",
                          "/tasks/exec-started", "/tasks/exit"));
}

TEST_F(PodTasksTest, KillReachesTheVmAndTheExitComesFromTheProcess) {
  create("pod", "pod");
  start("pod");
  vm->take_calls();
  kill("pod", SIGTERM);
  EXPECT_THAT(vm->take_calls(), ElementsAre("signal pod/ 15"));
  EXPECT_EQ(state("pod").status(), Status::RUNNING) << "until the process says it ended";
  vm->end("pod/", {128 + SIGTERM, "", true});
  EXPECT_EQ(code_of([&] { kill("pod", SIGKILL); }), ttrpc::Code::NotFound)
      << "an ended process, as containerd's runc shim answers";
  EXPECT_EQ(code_of([&] { kill("pod", 65); }), ttrpc::Code::NotFound);
}

TEST_F(PodTasksTest, AKillBeforeStartEndsTheWaitingInit) {
  create("pod", "pod");
  kill("pod", SIGKILL);
  EXPECT_EQ(state("pod").status(), Status::STOPPED);
  EXPECT_EQ(wait("pod"), 128u + SIGKILL);
  ASSERT_EQ(events.exits().size(), 1u);
  EXPECT_EQ(events.exits()[0].exit_status(), 128u + SIGKILL);
  EXPECT_EQ(code_of([&] { start("pod"); }), ttrpc::Code::FailedPrecondition);
}

// The agent call of a Start runs outside the table's lock: a Kill that
// comes meanwhile waits for it, so that the process is either started and
// signalled, never signalled while its start is undecided.
TEST_F(PodTasksTest, AKillDuringAStartWaitsForItsOutcome) {
  create("pod", "pod");
  std::promise<void> in_start, release;
  vm->during_start = [&] {
    in_start.set_value();
    release.get_future().wait();
  };
  auto starting = std::async(std::launch::async, [&] { start("pod"); });
  in_start.get_future().wait();
  auto killing = std::async(std::launch::async, [&] { kill("pod", SIGKILL); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // lets the Kill arrive first
  release.set_value();
  starting.get();
  killing.get();
  EXPECT_THAT(vm->take_calls(),
              ElementsAre("create pod", "start pod", "started pod", "signal pod/ 9"));
  EXPECT_EQ(state("pod").status(), Status::RUNNING) << "the exit comes from the process";
  vm->end("pod/", {128 + SIGKILL, "", true});
  EXPECT_EQ(wait("pod"), 128u + SIGKILL);
}

TEST_F(PodTasksTest, ASignalThatDoesNotTerminateLeavesTheCreatedInitWaiting) {
  create("pod", "pod");
  kill("pod", SIGCHLD);
  EXPECT_EQ(state("pod").status(), Status::CREATED);
  EXPECT_TRUE(events.exits().empty());
}

TEST_F(PodTasksTest, ARunningTaskIsNotDeletedAndANeverStartedOneIsKilledByIt) {
  create("pod", "pod");
  create("c1", "pod");
  start("pod");
  EXPECT_EQ(code_of([&] { remove("pod"); }), ttrpc::Code::FailedPrecondition);
  EXPECT_EQ(state("pod").status(), Status::RUNNING);
  EXPECT_EQ(remove("c1").exit_status(), 128u + SIGKILL);
  EXPECT_THAT(vm->take_calls(), ::testing::Contains("remove c1"));
  EXPECT_FALSE(vm->vm_destroyed) << "the pod still has its own task";
}

TEST_F(PodTasksTest, AVmThatDiesEndsEveryRunningProcessWithTheLostStatus) {
  create("pod", "pod");
  create("c1", "pod");
  start("pod");
  start("c1");
  vm->die("vmrt-vmm killed by signal 9");
  EXPECT_EQ(wait("pod"), 255u);
  EXPECT_EQ(wait("c1"), 255u);
  EXPECT_EQ(events.exits().size(), 2u);
  remove("c1");
  remove("pod");
  EXPECT_THAT(vm->take_calls(), ::testing::Not(::testing::Contains("remove pod")))
      << "a dead VM is not asked";
  EXPECT_TRUE(vm->vm_destroyed);
}

// A Kill that reaches a VM which died before the process's watch noticed
// (the agent is unreachable) answers that the process has finished, as
// containerd's StopContainer needs to go on; the exit is the VM's.
TEST_F(PodTasksTest, AKillIntoADeadVmFindsTheProcessFinished) {
  create("pod", "pod");
  create("c1", "pod");
  start("pod");
  vm->fail_signal = true;
  {
    std::lock_guard lock(vm->mu);
    vm->gone = "guest triple fault";
  }
  EXPECT_EQ(code_of([&] { kill("c1", SIGKILL); }), ttrpc::Code::NotFound) << "a created init";
  EXPECT_EQ(code_of([&] { kill("pod", SIGKILL); }), ttrpc::Code::NotFound) << "a started one";
  EXPECT_EQ(wait("pod"), 255u);
  EXPECT_EQ(wait("c1"), 255u);
  EXPECT_EQ(events.exits().size(), 2u);
  vm->fail_signal = false;
  {
    std::lock_guard lock(vm->mu);
    vm->gone.reset();
  }
}

TEST_F(PodTasksTest, AKillTheAgentRefusesInALiveVmIsAnError) {
  create("pod", "pod");
  start("pod");
  vm->fail_signal = true;
  EXPECT_THROW(kill("pod", SIGKILL), sandbox::AgentError) << "the VM lives: a real failure";
  EXPECT_EQ(state("pod").status(), Status::RUNNING);
  vm->fail_signal = false;
}

TEST_F(PodTasksTest, PauseAndResumeShowInStateAndEvents) {
  create("pod", "pod");
  start("pod");
  tasks.pause("pod");
  EXPECT_EQ(state("pod").status(), Status::PAUSED);
  tasks.resume("pod");
  EXPECT_EQ(state("pod").status(), Status::RUNNING);
  EXPECT_THAT(vm->take_calls(), ::testing::IsSupersetOf({"pause pod", "resume pod"}));
  EXPECT_THAT(events.take_topics(), ::testing::IsSupersetOf({"/tasks/paused", "/tasks/resumed"}));
}

TEST_F(PodTasksTest, AnOomInTheVmIsAnEvent) {
  create("pod", "pod");
  vm->on_oom("pod");
  EXPECT_THAT(events.take_topics(), ElementsAre("/tasks/create", "/tasks/oom"));
}

// The agent's OOM watch may not have passed a kill on when the killed
// process's exit arrives: the shim asks first, so that containerd hears of
// the OOM kill before the exit (CRI's OOMKilled reason depends on it).
TEST_F(PodTasksTest, AKilledProcessesOomGoesOutBeforeItsExit) {
  create("pod", "pod");
  start("pod");
  events.take_topics();
  vm->take_calls();
  vm->pending_oom = {"pod"};
  vm->end("pod/", {128 + SIGKILL, "", true});
  EXPECT_THAT(events.take_topics(), ElementsAre("/tasks/oom", "/tasks/exit"));
  EXPECT_THAT(vm->take_calls(), ::testing::Contains("sync_oom"));
}

TEST_F(PodTasksTest, AnExitNotByKillAsksForNoOom) {
  create("pod", "pod");
  start("pod");
  vm->take_calls();
  vm->end("pod/", {1, "", true});
  EXPECT_THAT(vm->take_calls(), ::testing::Not(::testing::Contains("sync_oom")));
}

TEST_F(PodTasksTest, StopEndsWaitersAndTheVm) {
  create("pod", "pod");
  start("pod");
  auto waiter = std::async(std::launch::async, [&] { return code_of([&] { wait("pod"); }); });
  tasks.stop();
  // A waiter already blocked hears that the shim stops; one that came after
  // finds no task. Either way it returns.
  EXPECT_THAT(waiter.get(), ::testing::AnyOf(ttrpc::Code::Unavailable, ttrpc::Code::NotFound));
  EXPECT_TRUE(vm->vm_destroyed);
  EXPECT_EQ(code_of([&] { create("pod", "pod"); }), ttrpc::Code::FailedPrecondition);
}

}  // namespace
}  // namespace vmrt::shim
