// The guest's figures from its agent (SandboxStats): the metrics a real
// answer gives, what a hostile one cannot do (unusable or repeated container
// ids, too many containers, an oversized or foreign frame, silence), and a
// scrape that asks a fake agent behind the VM's hybrid vsock socket.

#include "monitor/agent_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include "common/error.h"
#include "common/fd_io.h"
#include "common/tempdir.h"
#include "common/ttrpc/frame.h"
#include "common/ttrpc/status.h"
#include "monitor/agent_query.h"
#include "tests/unit/monitor/fake_agent.h"

namespace vmrt::monitor {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;
namespace v1 = agent::v1;

v1::ContainerStats* add(v1::SandboxStatsResponse& r, const std::string& id) {
  auto* c = r.add_containers();
  c->set_container_id(id);
  return c;
}

v1::SandboxStatsResponse sample_stats() {
  v1::SandboxStatsResponse r;
  r.set_cpus_online(3);
  r.set_cpus_present(4);
  auto* s = add(r, "web")->mutable_stats();
  s->mutable_cpu()->set_usage_usec(2500000);
  s->mutable_cpu()->set_throttled_usec(500000);
  s->mutable_memory()->set_current(64 << 20);
  s->mutable_memory()->set_inactive_file(16 << 20);
  s->mutable_memory()->set_limit(128 << 20);
  s->mutable_memory()->set_oom_kill(2);
  s->mutable_pids()->set_current(5);
  add(r, "sidecar")->mutable_stats()->mutable_cpu()->set_usage_usec(1000);
  return r;
}

std::string text_of(const v1::SandboxStatsResponse& r) {
  MetricSet m;
  add_agent_metrics(m, "pod-a", r);
  return m.text();
}

TEST(AgentMetrics, OnlineVcpusAndEachContainersFigures) {
  std::string t = text_of(sample_stats());
  EXPECT_THAT(t, HasSubstr("vmrt_vm_vcpus_online{sandbox=\"pod-a\"} 3\n"));
  const std::string web = "{sandbox=\"pod-a\",container=\"web\"}";
  EXPECT_THAT(t, HasSubstr("# TYPE vmrt_container_cpu_seconds_total counter\n"
                           "vmrt_container_cpu_seconds_total" +
                           web + " 2.5\n"));
  EXPECT_THAT(t, HasSubstr("vmrt_container_cpu_throttled_seconds_total" + web + " 0.5\n"));
  EXPECT_THAT(t, HasSubstr("vmrt_container_memory_usage_bytes" + web + " 67108864\n"));
  EXPECT_THAT(t, HasSubstr("vmrt_container_memory_working_set_bytes" + web + " 50331648\n"));
  EXPECT_THAT(t, HasSubstr("vmrt_container_memory_limit_bytes" + web + " 134217728\n"));
  EXPECT_THAT(t, HasSubstr("vmrt_container_oom_kills_total" + web + " 2\n"));
  EXPECT_THAT(t, HasSubstr("vmrt_container_pids" + web + " 5\n"));
  // A container without memory or pids figures has only its CPU time.
  EXPECT_THAT(t, HasSubstr("vmrt_container_cpu_seconds_total{sandbox=\"pod-a\",container="
                           "\"sidecar\"} 0.001\n"));
  EXPECT_THAT(t, Not(HasSubstr("memory_usage_bytes{sandbox=\"pod-a\",container=\"sidecar\"")));
}

TEST(AgentMetrics, HostileAnswersAreBounded) {
  v1::SandboxStatsResponse r;  // cpus_online 0: unknown, no sample
  for (const char* bad : {"", "..", "a/b", "a\nb", "-x"}) add(r, bad);
  add(r, std::string(200, 'a'));
  add(r, "twice")->mutable_stats()->mutable_cpu()->set_usage_usec(1000000);
  add(r, "twice")->mutable_stats()->mutable_cpu()->set_usage_usec(9000000);
  std::string t = text_of(r);
  EXPECT_THAT(t, Not(HasSubstr("vmrt_vm_vcpus_online")));
  EXPECT_EQ(t,
            "# HELP vmrt_container_cpu_seconds_total CPU time of the container's processes "
            "(cgroup cpu.stat usage_usec)\n"
            "# TYPE vmrt_container_cpu_seconds_total counter\n"
            "vmrt_container_cpu_seconds_total{sandbox=\"pod-a\",container=\"twice\"} 1\n"
            "# HELP vmrt_container_cpu_throttled_seconds_total time the container's processes "
            "were throttled by its CPU limit\n"
            "# TYPE vmrt_container_cpu_throttled_seconds_total counter\n"
            "vmrt_container_cpu_throttled_seconds_total{sandbox=\"pod-a\",container=\"twice\"} "
            "0\n");

  v1::SandboxStatsResponse many;
  for (int i = 0; i < 1000; ++i) add(many, "c" + std::to_string(i));
  MetricSet m;
  add_agent_metrics(m, "pod-a", many);
  std::string lines = m.text();
  // Two families of one sample per container, each with its two header lines.
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 2 * (2 + kMaxContainers));
}

TEST(AgentQuery, DecodesTheAnswerOrItsStatus) {
  ttrpc::wire::Response ok;
  ok.set_payload(sample_stats().SerializeAsString());
  auto stats = decode_sandbox_stats(ok.SerializeAsString());
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->containers_size(), 2);

  // An agent older than SandboxStats: no figures, no error.
  ttrpc::wire::Response old;
  old.mutable_status()->set_code(static_cast<int32_t>(ttrpc::Code::Unimplemented));
  EXPECT_FALSE(decode_sandbox_stats(old.SerializeAsString()));

  ttrpc::wire::Response failed;
  failed.mutable_status()->set_code(static_cast<int32_t>(ttrpc::Code::Internal));
  failed.mutable_status()->set_message("boom");
  EXPECT_THROW(decode_sandbox_stats(failed.SerializeAsString()), Error);
  EXPECT_THROW(decode_sandbox_stats("\xff\xff\xff"), Error);
  ttrpc::wire::Response garbage;
  garbage.set_payload("\xff\xff\xff");
  EXPECT_THROW(decode_sandbox_stats(garbage.SerializeAsString()), Error);
}

// The agent's end of a socket pair has its answer written before the
// question is asked: the socket buffers both ways hold them.
std::string ask_error(const std::string& answer, std::chrono::milliseconds timeout = 5s) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return "socketpair";
  UniqueFd monitor_end(sv[0]), agent_end(sv[1]);
  write_all(agent_end.get(), answer);
  try {
    ask_sandbox_stats(monitor_end.get(), Clock::now() + timeout, "agent");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(AgentQuery, RefusesWhatAHostileAgentSends) {
  EXPECT_EQ(ask_error(test::stats_answer(sample_stats())), "");
  EXPECT_THAT(ask_error(test::stats_answer(sample_stats(), 3)), HasSubstr("never asked"));
  // A header announcing more than the limit: refused before its payload.
  ttrpc::FrameHeader huge{static_cast<uint32_t>(kMaxAgentAnswer + 1), 1,
                          static_cast<uint8_t>(ttrpc::MessageType::Response), 0};
  auto head = ttrpc::encode_header(huge);
  EXPECT_THAT(ask_error(std::string(head.begin(), head.end())), HasSubstr("more than"));
  huge.type = static_cast<uint8_t>(ttrpc::MessageType::Request);
  huge.length = 0;
  head = ttrpc::encode_header(huge);
  EXPECT_THAT(ask_error(std::string(head.begin(), head.end())), HasSubstr("not a response"));
  // Silence, or an answer cut short: the deadline ends the wait.
  EXPECT_THAT(ask_error("", 100ms), HasSubstr("no answer in time"));
  EXPECT_THAT(ask_error(test::stats_answer(sample_stats()).substr(0, 14), 100ms),
              HasSubstr("no answer in time"));
}

TEST(AgentQuery, AsksThroughTheVmSocket) {
  TempDir dir;
  auto vm_socket = dir.path() / "vm" / "vm.sock";
  {
    test::FakeAgent agent(vm_socket, test::stats_answer(sample_stats()));
    auto stats = query_agent_stats(vm_socket, 5s);
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->cpus_online(), 3u);
    ASSERT_EQ(stats->containers_size(), 2);
    EXPECT_EQ(stats->containers(0).container_id(), "web");
  }
  std::filesystem::remove(vm_socket);
  test::FakeAgent silent(vm_socket, "");
  EXPECT_THROW(query_agent_stats(vm_socket, 200ms), Error);
}

}  // namespace
}  // namespace vmrt::monitor
