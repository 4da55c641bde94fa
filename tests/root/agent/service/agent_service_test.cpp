// vmrt-agent on a Unix socket, driven through its ttrpc API as the host would
// drive it over vsock: container lifecycle, stdio, exec, signals, terminals,
// and nothing left behind after remove (the sandbox's own calls:
// agent_service_sandbox_test.cpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/root/agent/service/agent_service_client.h"
#include "tests/root/agent/service/agent_service_fixture.h"

namespace vmrt::agent::test {
namespace {

using ::testing::HasSubstr;

TEST_F(AgentServiceHost, StreamsStdoutAndStderrAndReportsExitCodes) {
  run("c1", sh("echo hello; echo oops >&2; exit 3"));
  EXPECT_EQ(agent().output("c1"), "hello\n");
  EXPECT_EQ(agent().output("c1", v1::STDERR), "oops\n");
  v1::WaitProcessResponse w = agent().wait("c1");
  EXPECT_TRUE(w.exited());
  EXPECT_EQ(w.exit_code(), 3);
  EXPECT_EQ(w.status(), 3);
  // A second wait gives the same answer.
  EXPECT_EQ(agent().wait("c1").status(), 3);

  run("c0", {kBusybox, "true"});
  w = agent().wait("c0");
  EXPECT_TRUE(w.exited());
  EXPECT_EQ(w.status(), 0);
}

TEST_F(AgentServiceHost, ContainerViewFromInside) {
  run("c1", sh("echo pid=$$ host=$(hostname); grep NoNewPrivs /proc/self/status"));
  std::string out = agent().output("c1");
  EXPECT_THAT(out, HasSubstr("pid=1 host=box"));
  EXPECT_THAT(out, HasSubstr("NoNewPrivs:\t1"));
  EXPECT_EQ(agent().wait("c1").status(), 0);
}

TEST_F(AgentServiceHost, ContainerProcessesStartWithCleanSignals) {
  // The agent catches SIGCHLD and SIGPIPE; its containers must not inherit
  // blocked or ignored signals.
  run("c1", sh("grep -E '^Sig(Blk|Ign)' /proc/self/status"));
  std::string out = agent().output("c1");
  EXPECT_THAT(out, HasSubstr("SigBlk:\t0000000000000000"));
  EXPECT_EQ(agent().wait("c1").status(), 0);
}

TEST_F(AgentServiceHost, SigkillIsReportedAsSignal9) {
  pid_t pid = run("c1", {kBusybox, "sleep", "100"});
  EXPECT_TRUE(process_exists(pid));
  v1::SignalProcessRequest req;
  req.set_container_id("c1");
  req.set_signal(SIGKILL);
  v1::SignalProcessResponse r;
  ASSERT_TRUE(stub().SignalProcess(10s, req, &r).ok());
  v1::WaitProcessResponse w = agent().wait("c1");
  EXPECT_FALSE(w.exited());
  EXPECT_EQ(w.signal(), 9);
  EXPECT_EQ(w.status(), 137);
}

TEST_F(AgentServiceHost, SignalsReachTheContainer) {
  run("c1", sh("trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.05; done"));
  // Wait for the trap to be set before signalling.
  v1::ReadOutputRequest rr;
  rr.set_container_id("c1");
  rr.set_stream(v1::STDOUT);
  rr.set_wait_ms(500);
  std::string out;
  for (int i = 0; i < 100 && out.find("ready\n") == std::string::npos; ++i) {
    v1::ReadOutputResponse chunk;
    ASSERT_TRUE(stub().ReadOutput(10s, rr, &chunk).ok());
    ASSERT_FALSE(chunk.eof());
    out += chunk.data();
  }
  v1::SignalProcessRequest req;
  req.set_container_id("c1");
  req.set_signal(SIGTERM);
  v1::SignalProcessResponse r;
  ASSERT_TRUE(stub().SignalProcess(10s, req, &r).ok());
  out += read_all_output(stub(), "c1", v1::STDOUT, "", 10s);
  EXPECT_EQ(out, "ready\ngot-term\n");
  EXPECT_EQ(agent().wait("c1").status(), 7);
}

TEST_F(AgentServiceHost, StdinIsPiped) {
  run("c1", {kBusybox, "cat"}, false, true);
  v1::WriteStdinRequest w;
  w.set_container_id("c1");
  w.set_data("line one\nline two\n");
  v1::WriteStdinResponse wr;
  ASSERT_TRUE(stub().WriteStdin(10s, w, &wr).ok());
  EXPECT_EQ(wr.written(), 18u);
  v1::CloseStdinRequest c;
  c.set_container_id("c1");
  v1::CloseStdinResponse cr;
  ASSERT_TRUE(stub().CloseStdin(10s, c, &cr).ok());
  EXPECT_EQ(agent().output("c1"), "line one\nline two\n");
  EXPECT_EQ(agent().wait("c1").status(), 0);
  // Closed: further writes are refused, not lost silently.
  EXPECT_EQ(stub().WriteStdin(10s, w, &wr).error_code(), Code::FailedPrecondition);
}

TEST_F(AgentServiceHost, StdinNotOpenedReadsEndOfFile) {
  run("c1", sh("cat; echo eof"));
  EXPECT_EQ(agent().output("c1"), "eof\n");
}

TEST_F(AgentServiceHost, ExecIntoARunningContainer) {
  pid_t init = run("c1", {kBusybox, "sleep", "100"});
  v1::ExecProcessRequest req;
  req.set_container_id("c1");
  req.set_exec_id("e1");
  req.set_oci_process_json(R"({"args": ["/bin/busybox", "sh", "-c",
    "echo exec-ok; cat /proc/1/cmdline | tr '\\0' ' '; echo; hostname; exit 5"],
    "cwd": "/tmp", "env": ["PATH=/bin"]})");
  v1::ExecProcessResponse r;
  CallStatus s = stub().ExecProcess(30s, req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_NE(r.pid(), static_cast<uint32_t>(init));
  EXPECT_EQ(agent().output("c1", v1::STDOUT, "e1"), "exec-ok\n/bin/busybox sleep 100 \nbox\n");
  v1::WaitProcessResponse w = agent().wait("c1", "e1");
  EXPECT_EQ(w.status(), 5);

  // The exec'ed process is gone; the container still runs.
  v1::ListProcessesRequest lr;
  lr.set_container_id("c1");
  v1::ListProcessesResponse l;
  ASSERT_TRUE(stub().ListProcesses(10s, lr, &l).ok());
  EXPECT_THAT(l.pids(), ::testing::ElementsAre(static_cast<uint32_t>(init)));

  // Same exec id twice, unknown exec id.
  EXPECT_EQ(stub().ExecProcess(10s, req, &r).error_code(), Code::AlreadyExists);
  v1::WaitProcessRequest wr;
  wr.set_container_id("c1");
  wr.set_exec_id("nope");
  EXPECT_EQ(stub().WaitProcess(10s, wr, &w).error_code(), Code::NotFound);
}

TEST_F(AgentServiceHost, TerminalIsAllocatedAndResized) {
  ASSERT_TRUE(agent().create("c1", sh("tty; stty size"), true).ok());
  v1::ResizeTerminalRequest req;
  req.set_container_id("c1");
  req.set_rows(30);
  req.set_cols(100);
  v1::ResizeTerminalResponse r;
  CallStatus s = stub().ResizeTerminal(10s, req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(agent().start("c1").ok());
  std::string out = agent().output("c1");
  EXPECT_THAT(out, HasSubstr("/dev/pts/0"));
  EXPECT_THAT(out, HasSubstr("30 100"));
  // A terminal merges stderr into its output: the stderr stream is empty.
  EXPECT_EQ(agent().output("c1", v1::STDERR), "");
  EXPECT_EQ(agent().wait("c1").status(), 0);

  req.set_rows(0);
  EXPECT_EQ(stub().ResizeTerminal(10s, req, &r).error_code(), Code::InvalidArgument);
}

TEST_F(AgentServiceHost, ResizeWithoutTerminalIsRefused) {
  run("c1", {kBusybox, "sleep", "100"});
  v1::ResizeTerminalRequest req;
  req.set_container_id("c1");
  req.set_rows(1);
  req.set_cols(1);
  v1::ResizeTerminalResponse r;
  EXPECT_EQ(stub().ResizeTerminal(10s, req, &r).error_code(), Code::FailedPrecondition);
}

TEST_F(AgentServiceHost, PauseResumeAndStats) {
  run("c1", sh("while :; do sleep 0.05; done"));
  v1::PauseContainerRequest p;
  p.set_container_id("c1");
  v1::PauseContainerResponse pr;
  CallStatus s = stub().PauseContainer(10s, p, &pr);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(stub().PauseContainer(10s, p, &pr).error_code(), Code::FailedPrecondition);
  v1::ResumeContainerRequest q;
  q.set_container_id("c1");
  v1::ResumeContainerResponse qr;
  s = stub().ResumeContainer(10s, q, &qr);
  ASSERT_TRUE(s.ok()) << s.error_message();

  v1::StatsContainerRequest sr;
  sr.set_container_id("c1");
  v1::StatsContainerResponse st;
  s = stub().StatsContainer(10s, sr, &st);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_GT(st.cpu().usage_usec(), 0u);
}

TEST_F(AgentServiceHost, SandboxStatsGivesEveryContainersFigures) {
  run("c2", sh("while :; do sleep 0.05; done"));
  run("c1", sh("while :; do sleep 0.05; done"));
  v1::SandboxStatsResponse st;
  CallStatus s = stub().SandboxStats(10s, {}, &st);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(st.containers_size(), 2);
  EXPECT_EQ(st.containers(0).container_id(), "c1");
  EXPECT_EQ(st.containers(1).container_id(), "c2");
  for (const auto& c : st.containers()) {
    EXPECT_GT(c.stats().cpu().usage_usec(), 0u) << c.container_id();
    EXPECT_EQ(c.stats().io_size(), 0) << "a monitor reads no io figures";
  }
  // The test's CPU tree is empty: unknown, and the call still answers.
  EXPECT_EQ(st.cpus_online(), 0u);
}

TEST_F(AgentServiceHost, RemoveLeavesNothingBehind) {
  pid_t pid = run("c1", sh("sleep 100 & sleep 100"));
  // Removing a running container needs force.
  CallStatus s = agent().remove("c1", false);
  EXPECT_EQ(s.error_code(), Code::FailedPrecondition);
  v1::ListProcessesRequest lr;
  lr.set_container_id("c1");
  v1::ListProcessesResponse l;
  // The shell forks its background child in its own time.
  for (int i = 0; i < 200 && l.pids_size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(stub().ListProcesses(10s, lr, &l).ok());
  }
  EXPECT_EQ(l.pids_size(), 2);
  std::vector<pid_t> pids(l.pids().begin(), l.pids().end());

  s = agent().remove("c1", true);
  ASSERT_TRUE(s.ok()) << s.error_message();
  for (pid_t p : pids) EXPECT_FALSE(process_exists(p)) << p;
  EXPECT_FALSE(process_exists(pid));
  EXPECT_FALSE(std::filesystem::exists(agent().state() / "containers" / "c1"));
  EXPECT_FALSE(std::filesystem::exists(AgentUnderTest::cgroup_root() / "vmrt" / "c1"));
  EXPECT_THAT(read_file("/proc/self/mountinfo"),
              ::testing::Not(HasSubstr((agent().shared() / "c1").string())));
  EXPECT_EQ(agent().remove("c1").error_code(), Code::NotFound);
  // The id can be used again.
  run("c1", {kBusybox, "true"});
  EXPECT_EQ(agent().wait("c1").status(), 0);
}

TEST_F(AgentServiceHost, OutputIsReadInTurnsUntilEndOfFile) {
  run("c1", sh("echo one; read x; echo two"), false, true);
  v1::ReadOutputRequest req;
  req.set_container_id("c1");
  req.set_stream(v1::STDOUT);
  req.set_wait_ms(200);
  std::string out;
  v1::ReadOutputResponse chunk;
  for (int i = 0; i < 50 && out != "one\n"; ++i) {
    ASSERT_TRUE(stub().ReadOutput(10s, req, &chunk).ok());
    out += chunk.data();
  }
  ASSERT_EQ(out, "one\n");
  // The process waits on stdin: a call finds nothing, neither data nor end.
  ASSERT_TRUE(stub().ReadOutput(10s, req, &chunk).ok());
  EXPECT_EQ(chunk.data(), "");
  EXPECT_FALSE(chunk.eof());
  // One reader per stream at a time.
  req.set_wait_ms(2000);
  CallStatus first;
  v1::ReadOutputResponse first_chunk;
  std::thread reader([&] { first = stub().ReadOutput(10s, req, &first_chunk); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(stub().ReadOutput(10s, req, &chunk).error_code(), Code::AlreadyExists);
  v1::WriteStdinRequest w;
  w.set_container_id("c1");
  w.set_data("go\n");
  v1::WriteStdinResponse wr;
  ASSERT_TRUE(stub().WriteStdin(10s, w, &wr).ok());
  reader.join();
  ASSERT_TRUE(first.ok()) << first.error_message();
  out += first_chunk.data();
  out += read_all_output(stub(), "c1", v1::STDOUT, "", 10s);
  EXPECT_EQ(out, "one\ntwo\n");
  // End of file is told again to a later call.
  ASSERT_TRUE(stub().ReadOutput(10s, req, &chunk).ok());
  EXPECT_TRUE(chunk.eof());
  EXPECT_EQ(chunk.data(), "");
  EXPECT_EQ(agent().wait("c1").status(), 0);
}

TEST_F(AgentServiceHost, BadContainerRequestsNameTheProblem) {
  v1::CreateContainerRequest req;
  v1::CreateContainerResponse r;
  req.set_container_id("c1");
  req.set_rootfs(agent().make_bundle("c1"));
  req.set_oci_spec_json("{not json");
  CallStatus s = stub().CreateContainer(10s, req, &r);
  EXPECT_EQ(s.error_code(), Code::InvalidArgument);
  EXPECT_THAT(s.error_message(), HasSubstr("oci_spec_json: malformed JSON"));

  req.set_oci_spec_json(spec_json({kBusybox, "true"}));
  req.set_rootfs("../../etc");
  s = stub().CreateContainer(10s, req, &r);
  EXPECT_EQ(s.error_code(), Code::InvalidArgument);
  EXPECT_THAT(s.error_message(), HasSubstr("would leave the shared filesystem"));

  req.set_rootfs("c1/missing");
  s = stub().CreateContainer(10s, req, &r);
  EXPECT_EQ(s.error_code(), Code::InvalidArgument);
  EXPECT_THAT(s.error_message(), HasSubstr("no such directory"));

  req.set_container_id("../x");
  s = stub().CreateContainer(10s, req, &r);
  EXPECT_EQ(s.error_code(), Code::InvalidArgument);
  EXPECT_THAT(s.error_message(), HasSubstr("container_id"));

  v1::StartContainerRequest st;
  st.set_container_id("ghost");
  v1::StartContainerResponse str;
  s = stub().StartContainer(10s, st, &str);
  EXPECT_EQ(s.error_code(), Code::NotFound);
  EXPECT_THAT(s.error_message(), HasSubstr("container ghost: not found"));

  // A program that does not exist: start fails and says so.
  ASSERT_TRUE(agent().create("c2", {"/bin/no-such-program"}).ok());
  s = agent().start("c2");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.error_message(), HasSubstr("no-such-program"));

  ASSERT_TRUE(agent().create("c3", {kBusybox, "true"}).ok());
  EXPECT_EQ(agent().create("c3", {kBusybox, "true"}).error_code(), Code::AlreadyExists);
  ASSERT_TRUE(agent().start("c3").ok());
  EXPECT_EQ(agent().start("c3").error_code(), Code::FailedPrecondition);
}

}  // namespace
}  // namespace vmrt::agent::test
