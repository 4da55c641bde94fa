// The shim as the attacker's input reaches it: task and pod ids from
// containerd's requests, command line and specs, and a pod's annotations
// asking for a VM the operator does not allow. Each is refused before the
// shim names, mounts or creates anything after it.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/tempdir.h"
#include "shim/commands.h"
#include "shim/events.h"
#include "shim/pod_location.h"
#include "shim/task_service.h"
#include "tests/support/error_text.h"
#include "tests/support/minimal_spec.h"

namespace vmrt::shim {
namespace {

namespace fs = std::filesystem;
using test::error_text;
using ::testing::HasSubstr;

// Ids that would step out of a directory, name another, or corrupt a line.
const std::vector<std::string> kHostileIds = {
    "../x", "a/b", "", ".", "..", std::string(1025, 'a'), std::string("a\0b", 3), "a\nb", "/abs"};

std::string printable(const std::string& id) {
  std::string out;
  for (char c : id)
    out += (c >= 0x20 && c < 0x7f) ? std::string(1, c) : fmt::format("\\x{:02x}", c);
  return out.size() > 40 ? out.substr(0, 40) + "..." : out;
}

bool mounted_under(const fs::path& dir) {
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);)
    if (line.find(" " + dir.string()) != std::string::npos) return true;
  return false;
}

class ShimHostileInput : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_minimal_spec(bundle, nlohmann::json::object());
    fs::create_directories(layer);
    std::ofstream(config) << "[annotations]\nallowed = [\"vcpus\"]\nmax_vcpus = 2\n";
    ::setenv("VMRT_CONFIG", config.c_str(), 1);
    ::setenv("VMRT_SHIM_ROOT", shim_root.c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("VMRT_CONFIG");
    ::unsetenv("VMRT_SHIM_ROOT");
  }

  // A Create as containerd sends it for a pod's first task, its rootfs a
  // bind of a snapshot directory.
  task::CreateTaskRequest create_request(const std::string& id) const {
    task::CreateTaskRequest r;
    r.set_id(id);
    r.set_bundle(bundle.string());
    auto* m = r.add_rootfs();
    m->set_type("bind");
    m->set_source(layer.string());
    m->add_options("rbind");
    return r;
  }

  TempDir dir{"shim-hostile"};
  fs::path bundle = dir.path() / "bundle";
  fs::path layer = dir.path() / "layer";
  fs::path config = dir.path() / "config.toml";
  fs::path shim_root = dir.path() / "shim";
  PodLocation where = locate_pod("/run/containerd/containerd.sock", "ns", "pod", shim_root);
  EventPublisher events{"", "ns"};
  TaskService service{ShimArgs{}, where, events};
};

TEST_F(ShimHostileInput, TaskRequestsWithHostileIdsAreInvalidArguments) {
  for (const std::string& id : kHostileIds) {
    for (auto call : {std::function<void()>([&] { service.create(create_request(id)); }),
                      std::function<void()>([&] {
                        task::StartRequest r;
                        r.set_id(id);
                        service.start(r);
                      }),
                      std::function<void()>([&] {
                        task::DeleteRequest r;
                        r.set_id(id);
                        service.remove(r);
                      })}) {
      try {
        call();
        ADD_FAILURE() << "accepted " << printable(id);
      } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("invalid container ID")) << printable(id);
        EXPECT_EQ(e.code(), EINVAL) << printable(id);  // answered as InvalidArgument
      }
    }
  }
  EXPECT_FALSE(fs::exists(bundle / "rootfs")) << "a hostile create mounted its rootfs";
  EXPECT_FALSE(fs::exists(shim_root));
}

TEST_F(ShimHostileInput, AHostileSandboxIdAnnotationIsRefused) {
  for (const char* pod : {"../../sys/fs/cgroup", "a/b", ".."})
    EXPECT_THAT(
        error_text([&] {
          pod_of("c1", {{kContainerTypeAnnotation, "container"}, {kSandboxIdAnnotation, pod}});
        }),
        HasSubstr(std::string("annotation io.kubernetes.cri.sandbox-id: invalid container ID \"") +
                  pod + "\""));
}

// containerd runs `delete` after a shim died, with the task's id: a
// hostile one must not reach the removal of a pod directory.
TEST_F(ShimHostileInput, TheDeleteActionRefusesHostileIdsBeforeRemovingAnything) {
  for (const std::string& id : kHostileIds) {
    PodLocation victim = locate_pod("/run/containerd/containerd.sock", "ns", id, shim_root);
    fs::create_directories(victim.dir);
    std::ofstream(victim.dir / "keep") << "x";
    ShimArgs a;
    a.address = "/run/containerd/containerd.sock";
    a.namespace_ = "ns";
    a.id = id;
    a.bundle = bundle.string();
    EXPECT_THAT(error_text([&] { delete_command(a); }), HasSubstr("invalid container ID"))
        << printable(id);
    EXPECT_TRUE(fs::exists(victim.dir / "keep")) << printable(id);
    a.action = "start";
    EXPECT_THAT(error_text([&] { start_command(a); }), HasSubstr("invalid container ID"))
        << printable(id);
  }
}

TEST_F(ShimHostileInput, ARefusedAnnotationLeavesNothingBehind) {
  // What any pod could ask for with pod_annotations = ["io.vmrt.config.*"].
  for (const auto& [name, value, why] :
       {std::tuple{"io.vmrt.config.vcpus", "64",
                   fmt::format("annotation io.vmrt.config.vcpus: 64 is above the limit of 2 "
                               "(annotations.max_vcpus in {})",
                               config.string())},
        {"io.vmrt.config.memory_mib", "1048576",
         fmt::format("annotation io.vmrt.config.memory_mib: not allowed by {} "
                     "(annotations.allowed = [vcpus])",
                     config.string())},
        {"io.vmrt.config.kernel_params", "init=/bin/sh",
         fmt::format("annotation io.vmrt.config.kernel_params: not allowed: guest kernel "
                     "parameters from a pod need annotations.kernel_params = true in {}",
                     config.string())}}) {
    test::write_minimal_spec(bundle, {{name, value}});
    EXPECT_EQ(error_text([&] { service.create(create_request("pod")); }), why);
    // No rootfs mount (nor its mount point), no pod directory, no VM.
    EXPECT_FALSE(fs::exists(bundle / "rootfs")) << name;
    EXPECT_FALSE(mounted_under(bundle)) << name;
    EXPECT_FALSE(fs::exists(where.dir)) << name;
    task::StateRequest s;
    s.set_id("pod");
    EXPECT_THAT(error_text([&] { service.state(s); }), HasSubstr("not found")) << name;
  }
}

}  // namespace
}  // namespace vmrt::shim
