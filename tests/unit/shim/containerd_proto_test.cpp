// containerd's shim v2 Task API and events, compiled from the system's
// protos, carried by our ttrpc: the wire facts the shim relies on.

#include <gtest/gtest.h>

#include "common/tempdir.h"
#include "common/ttrpc/client.h"
#include "common/ttrpc/server.h"
#include "common/ttrpc/typed.h"
#include "github.com/containerd/cgroups/v2/stats/metrics.pb.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"

namespace vmrt {
namespace {

namespace task = containerd::task::v2;

TEST(ContainerdProto, CreateTaskRequestHasContainerdsFieldNumbers) {
  task::CreateTaskRequest req;
  req.set_id("c1");
  req.set_bundle("/b");
  auto* m = req.add_rootfs();
  m->set_type("overlay");
  // id = 1, bundle = 2, rootfs = 3 (repeated Mount, type = 1): the bytes
  // containerd 1.6 sends.
  EXPECT_EQ(req.SerializeAsString(), std::string("\x0a\x02"
                                                 "c1"
                                                 "\x12\x02/b"
                                                 "\x1a\x09\x0a\x07overlay",
                                                 4 + 4 + 11));
}

TEST(ContainerdProto, ExitEventsTravelAsAnyInAnEnvelope) {
  containerd::events::TaskExit exit;
  exit.set_container_id("c1");
  exit.set_pid(42);
  exit.set_exit_status(7);
  containerd::services::events::ttrpc::v1::ForwardRequest forward;
  auto* envelope = forward.mutable_envelope();
  envelope->set_namespace_("k8s.io");
  envelope->set_topic("/tasks/exit");
  // containerd's typeurl names events by their full proto name.
  envelope->mutable_event()->set_type_url("containerd.events.TaskExit");
  envelope->mutable_event()->set_value(exit.SerializeAsString());

  containerd::services::events::ttrpc::v1::ForwardRequest back;
  ASSERT_TRUE(back.ParseFromString(forward.SerializeAsString()));
  containerd::events::TaskExit got;
  ASSERT_TRUE(got.ParseFromString(back.envelope().event().value()));
  EXPECT_EQ(got.exit_status(), 7u);
  EXPECT_EQ(back.envelope().topic(), "/tasks/exit");
}

TEST(ContainerdProto, TaskStateOverOurTtrpc) {
  TempDir dir;
  ttrpc::Server server;
  ttrpc::add_typed_method<task::StateRequest, task::StateResponse>(
      server, "containerd.task.v2.Task", "State",
      [](const ttrpc::Context&, const task::StateRequest& req) {
        task::StateResponse r;
        r.set_id(req.id());
        r.set_pid(7);
        r.set_status(containerd::v1::types::RUNNING);
        return r;
      });
  server.listen(dir.path() / "shim.sock");
  auto client = ttrpc::Client::connect((dir.path() / "shim.sock").string());
  task::StateRequest req;
  req.set_id("c1");
  auto r = ttrpc::call_typed<task::StateResponse>(*client, "containerd.task.v2.Task", "State", req);
  EXPECT_EQ(r.id(), "c1");
  EXPECT_EQ(r.pid(), 7u);
  EXPECT_EQ(r.status(), containerd::v1::types::RUNNING);
}

TEST(ContainerdProto, CgroupV2MetricsCarryMemoryAndPids) {
  io::containerd::cgroups::v2::Metrics m;
  m.mutable_memory()->set_usage(1 << 20);
  m.mutable_pids()->set_current(3);
  io::containerd::cgroups::v2::Metrics back;
  ASSERT_TRUE(back.ParseFromString(m.SerializeAsString()));
  EXPECT_EQ(back.memory().usage(), 1u << 20);
  EXPECT_EQ(back.pids().current(), 3u);
}

}  // namespace
}  // namespace vmrt
