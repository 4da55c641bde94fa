// vmrt-agent on a Unix socket, its sandbox: health before and after
// CreateSandbox, the pod network its containers join, and what ending the
// sandbox or the agent does to the containers and calls still running.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/root/agent/service/agent_service_client.h"
#include "tests/root/agent/service/agent_service_fixture.h"
#include "tests/support/scratch_netns.h"

namespace vmrt::agent::test {
namespace {

using vmrt::test::ScratchNetns;

using ::testing::HasSubstr;

TEST(AgentServiceHostHealth, AnswersBeforeAndAfterCreateSandbox) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  AgentUnderTest agent;
  v1::HealthResponse r;
  ASSERT_TRUE(agent.stub().Health(10s, {}, &r).ok());
  EXPECT_EQ(r.status(), v1::HealthResponse::SERVING);
  EXPECT_FALSE(r.agent_version().empty());
  EXPECT_GE(r.api_version(), 1u);
  EXPECT_FALSE(r.sandbox_created());

  ASSERT_TRUE(agent.create_sandbox("pod-1").ok());
  ASSERT_TRUE(agent.stub().Health(10s, {}, &r).ok());
  EXPECT_TRUE(r.sandbox_created());
  // Not PID 1: the hostname and DNS are written to the state directory only.
  EXPECT_EQ(read_file(agent.state() / "hostname"), "pod-1\n");
  EXPECT_EQ(read_file(agent.state() / "resolv.conf"), "nameserver 10.0.0.2\n");

  CallStatus again = agent.create_sandbox();
  EXPECT_EQ(again.error_code(), Code::AlreadyExists);
  EXPECT_TRUE(agent.stop().success());
}

// OnlineCpus over ttrpc, before any sandbox, in the CPU tree the agent was
// given (agent/init/cpu_online.h has the cases).
TEST(AgentServiceHostHealth, OnlineCpusWorksInTheGivenCpuTree) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  AgentUnderTest agent;
  v1::HealthResponse h;
  ASSERT_TRUE(agent.stub().Health(10s, {}, &h).ok());
  EXPECT_GE(h.api_version(), 4u) << "OnlineCpus came with api_version 4";
  std::filesystem::create_directories(agent.cpus() / "cpu0");
  std::ofstream(agent.cpus() / "present") << "0-2\n";
  std::ofstream(agent.cpus() / "online") << "0\n";
  for (const char* cpu : {"cpu1", "cpu2"}) {
    std::filesystem::create_directories(agent.cpus() / cpu);
    std::ofstream(agent.cpus() / cpu / "online") << "0\n";
  }
  v1::OnlineCpusRequest req;
  req.set_count(2);
  v1::OnlineCpusResponse r;
  CallStatus s = agent.stub().OnlineCpus(10s, req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.online(), 2u);
  EXPECT_EQ(r.present(), 3u);
  EXPECT_EQ(read_file(agent.cpus() / "cpu1" / "online"), "1");
  req.set_count(4);
  s = agent.stub().OnlineCpus(10s, req, &r);
  EXPECT_EQ(s.error_code(), Code::InvalidArgument);
  EXPECT_THAT(s.error_message(), HasSubstr("only 3 are present"));
}

TEST(AgentServiceHostHealth, ContainerCallsNeedASandbox) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  AgentUnderTest agent;
  CallStatus s = agent.create("c1", sh("true"));
  EXPECT_EQ(s.error_code(), Code::FailedPrecondition);
  EXPECT_THAT(s.error_message(), HasSubstr("CreateSandbox"));
}

TEST(AgentServiceHostHealth, BadSandboxRequestsAreRejected) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  AgentUnderTest agent;
  v1::CreateSandboxRequest req;
  v1::CreateSandboxResponse r;
  req.set_hostname("bad host");
  req.mutable_shared_fs()->set_mount_point(agent.shared().string());
  CallStatus s = agent.stub().CreateSandbox(10s, req, &r);
  EXPECT_EQ(s.error_code(), Code::InvalidArgument);
  EXPECT_THAT(s.error_message(), HasSubstr("hostname"));

  req.set_hostname("ok");
  req.mutable_shared_fs()->set_mount_point((agent.dir() / "missing").string());
  s = agent.stub().CreateSandbox(10s, req, &r);
  EXPECT_EQ(s.error_code(), Code::InvalidArgument);
  EXPECT_THAT(s.error_message(), HasSubstr("no such directory"));

  // What makes a restored VM its own is checked like the rest.
  req.mutable_shared_fs()->set_mount_point(agent.shared().string());
  req.set_realtime_ns(-1);
  s = agent.stub().CreateSandbox(10s, req, &r);
  EXPECT_EQ(s.error_code(), Code::InvalidArgument);
  EXPECT_THAT(s.error_message(), HasSubstr("realtime_ns -1"));
  req.set_realtime_ns(0);
  req.set_entropy(std::string(513, 'x'));
  s = agent.stub().CreateSandbox(10s, req, &r);
  EXPECT_EQ(s.error_code(), Code::InvalidArgument);
  EXPECT_THAT(s.error_message(), HasSubstr("entropy: 513 bytes, at most 512"));
  req.clear_entropy();

  // A virtio-fs tag that does not exist (there is no virtio-fs on the host).
  req.mutable_shared_fs()->set_mount_point((agent.dir() / "mnt").string());
  req.mutable_shared_fs()->set_mount_tag("no-such-tag");
  s = agent.stub().CreateSandbox(10s, req, &r);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.error_message(), HasSubstr("mount virtiofs no-such-tag"));
}

// The agent in a scratch network namespace whose veth plays the VM's NIC.
TEST(AgentServiceHostNetwork, CreateSandboxSetsUpThePodNetworkItsContainersJoin) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  ScratchNetns ns;
  ns.ip({"link", "add", "nic0", "address", "02:00:0a:58:00:05", "type", "veth", "peer", "name",
         "peer0"});
  ns.ip({"link", "set", "peer0", "up"});
  AgentUnderTest agent(ns.path());
  v1::HealthResponse h;
  ASSERT_TRUE(agent.stub().Health(10s, {}, &h).ok());
  EXPECT_GE(h.api_version(), 2u);

  v1::CreateSandboxRequest req;
  req.mutable_shared_fs()->set_mount_point(agent.shared().string());
  auto* itf = req.add_interfaces();
  itf->set_mac("02:00:0a:58:00:05");
  itf->set_mtu(1450);
  itf->add_addresses()->set_ip("10.88.0.5");
  itf->mutable_addresses(0)->set_prefix_len(16);
  auto* route = req.add_routes();
  route->set_gateway("10.88.0.1");
  route->set_device("eth0");
  v1::CreateSandboxResponse r;

  // Refused requests name the problem and change nothing.
  v1::CreateSandboxRequest bad = req;
  bad.mutable_routes(0)->set_device("eth1");
  CallStatus s = agent.stub().CreateSandbox(10s, bad, &r);
  EXPECT_EQ(s.error_code(), Code::InvalidArgument);
  EXPECT_THAT(s.error_message(), HasSubstr("routes[0].device \"eth1\": unknown device"));
  bad = req;
  bad.mutable_interfaces(0)->set_mac("02:00:0a:58:00:99");
  s = agent.stub().CreateSandbox(10s, bad, &r);
  EXPECT_EQ(s.error_code(), Code::NotFound);
  EXPECT_THAT(s.error_message(), HasSubstr("no link has MAC 02:00:0a:58:00:99"));
  EXPECT_EQ(ns.ip_json({"link", "show", "dev", "nic0"})[0]["mtu"], 1500);

  s = agent.stub().CreateSandbox(10s, req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  nlohmann::json eth0 = ns.ip_json({"addr", "show", "dev", "eth0"})[0];
  EXPECT_EQ(eth0["mtu"], 1450);
  EXPECT_EQ(eth0["addr_info"][0]["local"], "10.88.0.5");
  EXPECT_EQ(ns.ip_json({"route", "show", "default"})[0]["gateway"], "10.88.0.1");

  // A network namespace by path (here a host path, as CRI gives the pod's)
  // is the pod's: the agent's, with eth0. Without a path: a new, empty one.
  auto spec_with_network = [](const std::string& path) {
    nlohmann::json spec = nlohmann::json::parse(
        spec_json({kBusybox, "sh", "-c", "cat /proc/net/dev; cat /proc/net/route"}));
    nlohmann::json ns = {{"type", "network"}};
    if (!path.empty()) ns["path"] = path;
    spec["linux"]["namespaces"].push_back(ns);
    return spec.dump();
  };
  auto run_with_network = [&](const std::string& id, const std::string& path) {
    v1::CreateContainerRequest c;
    c.set_container_id(id);
    c.set_oci_spec_json(spec_with_network(path));
    c.set_rootfs(agent.make_bundle(id));
    v1::CreateContainerResponse cr;
    CallStatus cs = agent.stub().CreateContainer(30s, c, &cr);
    EXPECT_TRUE(cs.ok()) << cs.error_message();
    EXPECT_TRUE(agent.start(id).ok());
    std::string out = agent.output(id);
    EXPECT_EQ(agent.wait(id).status(), 0);
    return out;
  };
  std::string pod = run_with_network("pod", "/var/run/netns/cni-0000");
  EXPECT_THAT(pod, HasSubstr("eth0:"));
  EXPECT_THAT(pod, HasSubstr("eth0\t00000000\t0100580A"));  // default via 10.88.0.1
  std::string own = run_with_network("own", "");
  EXPECT_THAT(own, HasSubstr("lo:"));
  EXPECT_THAT(own, ::testing::Not(HasSubstr("eth0")));

  // DestroySandbox takes the configuration back.
  v1::DestroySandboxResponse dr;
  ASSERT_TRUE(agent.stub().DestroySandbox(10s, {}, &dr).ok());
  EXPECT_EQ(ns.ip_json({"addr", "show", "dev", "nic0"})[0]["addr_info"].size(), 0u);
  EXPECT_TRUE(agent.stop().success());
}

TEST_F(AgentServiceHost, DestroySandboxRemovesEveryContainer) {
  std::vector<pid_t> pids = {run("a", {kBusybox, "sleep", "100"}),
                             run("b", {kBusybox, "sleep", "100"})};
  v1::DestroySandboxResponse r;
  CallStatus s = stub().DestroySandbox(10s, {}, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  for (pid_t p : pids) EXPECT_FALSE(process_exists(p));
  for (const char* id : {"a", "b"})
    EXPECT_FALSE(std::filesystem::exists(AgentUnderTest::cgroup_root() / "vmrt" / id));
  v1::HealthResponse h;
  ASSERT_TRUE(stub().Health(10s, {}, &h).ok());
  EXPECT_FALSE(h.sandbox_created());
  // A new sandbox can follow.
  EXPECT_TRUE(agent().create_sandbox().ok());
}

TEST_F(AgentServiceHost, OomEventsWaitingEndWithTheSandbox) {
  v1::OomEventsRequest req;
  v1::OomEventsResponse e;
  // Nothing yet: the call waits for wait_ms and answers empty.
  req.set_wait_ms(100);
  ASSERT_TRUE(stub().OomEvents(10s, req, &e).ok());
  EXPECT_EQ(e.container_ids_size(), 0);
  EXPECT_EQ(e.last(), 0u);
  EXPECT_FALSE(e.closed());
  // A call waiting when the sandbox goes is answered closed.
  req.set_wait_ms(10000);
  CallStatus waited;
  std::thread waiter([&] { waited = stub().OomEvents(30s, req, &e); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  v1::DestroySandboxResponse r;
  ASSERT_TRUE(stub().DestroySandbox(10s, {}, &r).ok());
  waiter.join();
  ASSERT_TRUE(waited.ok()) << waited.error_message();
  EXPECT_TRUE(e.closed());
  EXPECT_EQ(e.container_ids_size(), 0);
}

TEST_F(AgentServiceHost, AgentStopsCleanlyWithContainersRunning) {
  pid_t pid = run("c1", {kBusybox, "sleep", "100"});
  ExitStatus st = agent().stop();
  EXPECT_TRUE(st.success()) << st.to_string();
  EXPECT_FALSE(process_exists(pid));
}

}  // namespace
}  // namespace vmrt::agent::test
