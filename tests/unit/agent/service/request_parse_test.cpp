// The agent's request checks: ids, rootfs paths inside the share, the OCI
// JSON carried in requests, signals, hostnames and DNS settings. Every
// rejection is INVALID_ARGUMENT with a message naming the field.
#include "agent/service/request_parse.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/service/request_error.h"
#include "tests/support/request_code.h"

namespace vmrt::agent {
namespace {

using test::code_of;
using test::request_message;
using ::testing::HasSubstr;

TEST(AgentServiceRequest, IdsAcceptTheUsualShapes) {
  for (const char* id : {"c1", "a", "abc-DEF_0.9", "0"})
    EXPECT_EQ(request_message([&] { check_id("container_id", id); }), "") << id;
  EXPECT_EQ(request_message([] { check_id("container_id", std::string(128, 'x')); }), "");
}

TEST(AgentServiceRequest, IdsRejectWhatCouldEscapeAPath) {
  EXPECT_EQ(request_message([] { check_id("container_id", ""); }), "container_id: empty");
  for (const char* id : {"..", "a/b", "-a", ".hidden", "a b", "a\nb", "ä"}) {
    EXPECT_THAT(request_message([&] { check_id("exec_id", id); }), HasSubstr("exec_id \"")) << id;
    EXPECT_EQ(code_of([&] { check_id("exec_id", id); }), Code::InvalidArgument);
  }
  EXPECT_THAT(request_message([] { check_id("container_id", std::string(129, 'x')); }),
              HasSubstr("longer than 128"));
}

TEST(AgentServiceRequest, RootfsStaysInsideTheShare) {
  EXPECT_EQ(resolve_in_share("/run/vmrt/shared", "c1/rootfs"), "/run/vmrt/shared/c1/rootfs");
  EXPECT_EQ(resolve_in_share("/s", "./c1//rootfs/"), "/s/c1/rootfs/");
  EXPECT_THAT(request_message([] { resolve_in_share("/s", "/etc"); }),
              HasSubstr("must be relative"));
  EXPECT_THAT(request_message([] { resolve_in_share("/s", "c1/../../etc"); }),
              HasSubstr("would leave the shared filesystem"));
  EXPECT_THAT(request_message([] { resolve_in_share("/s", ".."); }), HasSubstr("\"..\""));
  EXPECT_EQ(request_message([] { resolve_in_share("/s", ""); }), "rootfs: empty");
  EXPECT_THAT(request_message([] { resolve_in_share("/s", std::string("a\0b", 3)); }),
              HasSubstr("NUL"));
}

const char* kSpec = R"({
  "ociVersion": "1.0.2",
  "process": {"args": ["/bin/sh"], "cwd": "/", "env": ["PATH=/bin"]},
  "root": {"path": "rootfs"},
  "hostname": "box",
  "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}
})";

TEST(AgentServiceRequest, ContainerSpecParses) {
  oci::Spec s = parse_container_spec(kSpec);
  EXPECT_EQ(s.hostname, "box");
  ASSERT_TRUE(s.process);
  EXPECT_EQ(s.process->args, std::vector<std::string>{"/bin/sh"});
}

TEST(AgentServiceRequest, MalformedContainerSpecsNameTheField) {
  EXPECT_EQ(request_message([] { parse_container_spec(""); }), "oci_spec_json: empty");
  EXPECT_THAT(request_message([] { parse_container_spec("{"); }),
              HasSubstr("oci_spec_json: malformed JSON"));
  EXPECT_THAT(request_message([] { parse_container_spec(R"({"ociVersion": "1.0.2"})"); }),
              HasSubstr("oci_spec_json"));
  std::string no_process = R"({"ociVersion": "1.0.2", "root": {"path": "rootfs"}})";
  EXPECT_THAT(request_message([&] { parse_container_spec(no_process); }), HasSubstr("process"));
  std::string bad_args =
      R"({"ociVersion": "1.0.2", "root": {"path": "r"}, "process": {"args": 3, "cwd": "/"}})";
  EXPECT_THAT(request_message([&] { parse_container_spec(bad_args); }),
              HasSubstr("oci_spec_json: process.args"));
  EXPECT_EQ(code_of([&] { parse_container_spec(bad_args); }), Code::InvalidArgument);
}

TEST(AgentServiceRequest, ExecProcessParses) {
  oci::Process p = parse_exec_process(
      R"({"args": ["/bin/echo", "hi"], "cwd": "/tmp", "user": {"uid": 1, "gid": 2}})");
  EXPECT_EQ(p.args.size(), 2u);
  EXPECT_EQ(p.cwd, "/tmp");
  EXPECT_EQ(p.user.uid, 1u);
  EXPECT_EQ(p.user.gid, 2u);
}

TEST(AgentServiceRequest, MalformedExecProcessesNameTheField) {
  EXPECT_THAT(request_message([] { parse_exec_process("[]"); }), HasSubstr("oci_process_json"));
  EXPECT_THAT(request_message([] { parse_exec_process(R"({"args": [], "cwd": "/"})"); }),
              HasSubstr("oci_process_json: process.args"));
  EXPECT_THAT(request_message([] { parse_exec_process(R"({"args": ["x"], "cwd": "rel"})"); }),
              HasSubstr("oci_process_json: process.cwd"));
  EXPECT_THAT(request_message([] { parse_exec_process("not json"); }), HasSubstr("malformed JSON"));
  EXPECT_THAT(
      request_message([] { parse_exec_process(R"({"args": ["x"], "cwd": "/", "a": -1e999})"); }),
      HasSubstr("oci_process_json: malformed JSON: number overflow"));
}

TEST(AgentServiceRequest, ResourcesParse) {
  oci::Resources r = parse_resources(R"({"memory": {"limit": 67108864}, "pids": {"limit": 10}})");
  ASSERT_TRUE(r.memory);
  EXPECT_EQ(r.memory->limit, 64 << 20);
  ASSERT_TRUE(r.pids);
  EXPECT_EQ(r.pids->limit, 10);
  EXPECT_FALSE(parse_resources("{}").memory);
}

TEST(AgentServiceRequest, MalformedResourcesNameTheField) {
  EXPECT_THAT(request_message([] { parse_resources(R"({"memory": {"limit": "lots"}})"); }),
              HasSubstr("resources_json: linux.resources.memory.limit"));
  EXPECT_THAT(request_message([] { parse_resources("3"); }), HasSubstr("resources_json"));
}

TEST(AgentServiceRequest, Signals) {
  EXPECT_EQ(check_signal(9), 9);
  EXPECT_EQ(check_signal(64), 64);
  EXPECT_EQ(request_message([] { check_signal(0); }), "signal 0: must be 1 to 64");
  EXPECT_EQ(request_message([] { check_signal(65); }), "signal 65: must be 1 to 64");
}

TEST(AgentServiceRequest, Hostnames) {
  EXPECT_EQ(request_message([] { check_hostname("pod-1.example"); }), "");
  for (const char* h : {"", "a b", "a/b", "a_b", "x\n"})
    EXPECT_THAT(request_message([&] { check_hostname(h); }), HasSubstr("hostname")) << h;
  EXPECT_THAT(request_message([] { check_hostname(std::string(65, 'h')); }), HasSubstr("1 to 64"));
}

TEST(AgentServiceRequest, ResolvConf) {
  EXPECT_EQ(resolv_conf({}, {}, {}), "");
  EXPECT_EQ(resolv_conf({"10.0.0.2", "fd00::1"}, {"svc.local", "local"}, {"ndots:5"}),
            "nameserver 10.0.0.2\nnameserver fd00::1\nsearch svc.local local\noptions ndots:5\n");
  // A line break in an entry would let the request add lines of its own.
  EXPECT_THAT(request_message([] { resolv_conf({"1.1.1.1\nnameserver 6.6.6.6"}, {}, {}); }),
              HasSubstr("dns_servers"));
  EXPECT_THAT(request_message([] { resolv_conf({}, {"a b"}, {}); }), HasSubstr("dns_searches"));
  EXPECT_THAT(request_message([] { resolv_conf({}, {}, {""}); }), HasSubstr("dns_options: empty"));
}

}  // namespace
}  // namespace vmrt::agent
