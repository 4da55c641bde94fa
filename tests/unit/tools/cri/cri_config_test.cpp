// vmrt-cri's request building: flags over crictl-style JSON, the defaults
// containerd needs, the pod config recovered from a status, stats as JSON.

#include "tools/cri/cri_config.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace vmrt::cri {
namespace {

TEST(CriConfig, SplitKeyValue) {
  EXPECT_EQ(split_key_value("a=b", "--label"), std::make_pair(std::string("a"), std::string("b")));
  EXPECT_EQ(split_key_value("a=b=c", "--label").second, "b=c");
  EXPECT_EQ(split_key_value("a=", "--label").second, "");
  try {
    split_key_value("novalue", "--annotation");
    FAIL() << "no '=' accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "--annotation: expected KEY=VALUE, got \"novalue\"");
  }
  EXPECT_THROW(split_key_value("=v", "--label"), Error);
}

// crictl's pod-config.json: snake_case names, enums as numbers.
TEST(CriConfig, ReadsCrictlPodJson) {
  v1::PodSandboxConfig c;
  parse_json(R"({
    "metadata": {"name": "web", "namespace": "ns", "uid": "u1", "attempt": 1},
    "log_directory": "/tmp/logs",
    "labels": {"app": "web"},
    "linux": {"security_context": {"namespace_options": {"network": 2, "pid": 1}}}
  })",
             c, "pod.json");
  EXPECT_EQ(c.metadata().name(), "web");
  EXPECT_EQ(c.metadata().namespace_(), "ns");
  EXPECT_EQ(c.metadata().attempt(), 1u);
  EXPECT_EQ(c.log_directory(), "/tmp/logs");
  EXPECT_EQ(c.labels().at("app"), "web");
  EXPECT_EQ(c.linux().security_context().namespace_options().network(), v1::NODE);
  EXPECT_EQ(c.linux().security_context().namespace_options().pid(), v1::CONTAINER);
}

TEST(CriConfig, ReadsProto3Json) {
  v1::ContainerConfig c;
  parse_json(R"({"metadata": {"name": "c"}, "image": {"image": "busybox"},
                 "workingDir": "/w", "envs": [{"key": "A", "value": "1"}],
                 "linux": {"securityContext": {"namespaceOptions": {"network": "NODE"}}}})",
             c, "c.json");
  EXPECT_EQ(c.working_dir(), "/w");
  EXPECT_EQ(c.envs(0).key(), "A");
  EXPECT_EQ(c.linux().security_context().namespace_options().network(), v1::NODE);
}

TEST(CriConfig, UnknownJsonFieldIsAnErrorNamingIt) {
  v1::PodSandboxConfig c;
  try {
    parse_json(R"({"metadata": {"name": "p"}, "port_mappings": []})", c, "pod.json");
    FAIL() << "unknown field accepted";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_EQ(what.rfind("pod.json: ", 0), 0u) << what;
    EXPECT_NE(what.find("port_mappings"), std::string::npos) << what;
  }
  EXPECT_THROW(parse_json("{not json", c, "pod.json"), Error);
}

TEST(CriConfig, PodDefaultsAreUniqueAndKubeletLike) {
  v1::PodSandboxConfig a, b;
  apply_pod_flags({}, a);
  apply_pod_flags({}, b);
  EXPECT_EQ(a.metadata().uid().size(), 32u);
  EXPECT_NE(a.metadata().uid(), b.metadata().uid());
  EXPECT_EQ(a.metadata().name(), "vmrt-cri-" + a.metadata().uid().substr(0, 8));
  EXPECT_EQ(a.metadata().namespace_(), "default");
  const auto& ns = a.linux().security_context().namespace_options();
  EXPECT_EQ(ns.network(), v1::POD);
  EXPECT_EQ(ns.pid(), v1::CONTAINER);
  EXPECT_EQ(ns.ipc(), v1::POD);
}

TEST(CriConfig, PodFlagsOverrideJson) {
  v1::PodSandboxConfig c;
  parse_json(R"({"metadata": {"name": "file", "namespace": "fns", "uid": "fu"},
                 "labels": {"a": "1"},
                 "linux": {"security_context": {"namespace_options": {"pid": 2}}}})",
             c, "pod.json");
  PodFlags f;
  f.name = "flag";
  f.host_network = true;
  f.labels = {"a=2", "b=3"};
  f.annotations = {"io.example/x=y"};
  f.cgroup_parent = "/pods";
  apply_pod_flags(f, c);
  EXPECT_EQ(c.metadata().name(), "flag");
  EXPECT_EQ(c.metadata().namespace_(), "fns");
  EXPECT_EQ(c.metadata().uid(), "fu");
  EXPECT_EQ(c.labels().at("a"), "2");
  EXPECT_EQ(c.labels().at("b"), "3");
  EXPECT_EQ(c.annotations().at("io.example/x"), "y");
  EXPECT_EQ(c.linux().cgroup_parent(), "/pods");
  const auto& ns = c.linux().security_context().namespace_options();
  EXPECT_EQ(ns.network(), v1::NODE);
  // The file's namespace modes stand: no kubelet default over them.
  EXPECT_EQ(ns.pid(), v1::NODE);
}

TEST(CriConfig, ContainerArgvReplacesCommandOrArgs) {
  ContainerFlags f;
  f.name = "c";
  f.image = "img";
  f.argv = {"sh", "-c", "true"};
  f.envs = {"A=1", "B=x=y"};
  v1::ContainerConfig c;
  c.add_command("old");
  c.add_args("old");
  apply_container_flags(f, c);
  ASSERT_EQ(c.command_size(), 3);
  EXPECT_EQ(c.command(1), "-c");
  EXPECT_EQ(c.args_size(), 0);
  ASSERT_EQ(c.envs_size(), 2);
  EXPECT_EQ(c.envs(1).value(), "x=y");

  f.keep_entrypoint = true;
  v1::ContainerConfig k;
  k.add_command("entry");
  apply_container_flags(f, k);
  ASSERT_EQ(k.command_size(), 1);
  EXPECT_EQ(k.command(0), "entry");
  EXPECT_EQ(k.args_size(), 3);
}

TEST(CriConfig, ContainerNeedsNameAndImage) {
  ContainerFlags image_only;
  image_only.image = "img";
  v1::ContainerConfig a;
  EXPECT_THROW(apply_container_flags(image_only, a), Error);
  ContainerFlags name_only;
  name_only.name = "c";
  v1::ContainerConfig b;
  EXPECT_THROW(apply_container_flags(name_only, b), Error);
  v1::ContainerConfig from_json;
  from_json.mutable_image()->set_image("from-json");
  EXPECT_NO_THROW(apply_container_flags(name_only, from_json));
}

TEST(CriConfig, ContainersInheritPodNamespaceModes) {
  v1::PodSandboxConfig pod;
  PodFlags f;
  f.host_network = true;
  apply_pod_flags(f, pod);
  v1::ContainerConfig c;
  inherit_pod_namespaces(pod, c);
  EXPECT_EQ(c.linux().security_context().namespace_options().network(), v1::NODE);
  EXPECT_EQ(c.linux().security_context().namespace_options().pid(), v1::CONTAINER);

  v1::ContainerConfig own;
  own.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::TARGET);
  inherit_pod_namespaces(pod, own);
  EXPECT_EQ(own.linux().security_context().namespace_options().network(), v1::POD);
  EXPECT_EQ(own.linux().security_context().namespace_options().pid(), v1::TARGET);
}

TEST(CriConfig, SandboxConfigFromContainerdsVerboseInfo) {
  v1::PodSandboxStatusResponse r;
  r.mutable_status()->mutable_metadata()->set_name("from-status");
  // containerd's info: its own keys around the config it was given, which
  // may hold fields this client does not model.
  (*r.mutable_info())["info"] = R"({"pid": 42, "runtimeHandler": "vmrt",
      "config": {"metadata": {"name": "p", "uid": "u", "namespace": "n"},
                 "log_directory": "/logs", "port_mappings": [{"container_port": 80}],
                 "linux": {"security_context": {"namespace_options": {"network": 2}}}}})";
  v1::PodSandboxConfig c = sandbox_config_from_status(r);
  EXPECT_EQ(c.metadata().name(), "p");
  EXPECT_EQ(c.log_directory(), "/logs");
  EXPECT_EQ(c.linux().security_context().namespace_options().network(), v1::NODE);
}

TEST(CriConfig, SandboxConfigFromPlainStatus) {
  v1::PodSandboxStatusResponse r;
  auto* s = r.mutable_status();
  s->mutable_metadata()->set_name("p");
  s->mutable_metadata()->set_uid("u");
  (*s->mutable_labels())["l"] = "1";
  (*s->mutable_annotations())["a"] = "2";
  s->mutable_linux()->mutable_namespaces()->mutable_options()->set_network(v1::NODE);
  (*r.mutable_info())["info"] = "not json";
  v1::PodSandboxConfig c = sandbox_config_from_status(r);
  EXPECT_EQ(c.metadata().uid(), "u");
  EXPECT_EQ(c.labels().at("l"), "1");
  EXPECT_EQ(c.annotations().at("a"), "2");
  EXPECT_EQ(c.linux().security_context().namespace_options().network(), v1::NODE);
}

TEST(CriConfig, StatsJsonHasPlainNumbersAndOnlyReportedValues) {
  v1::ContainerStats s;
  s.mutable_attributes()->set_id("c1");
  s.mutable_attributes()->mutable_metadata()->set_name("web");
  s.mutable_cpu()->set_timestamp(5);
  s.mutable_cpu()->mutable_usage_core_nano_seconds()->set_value(12345678901234ull);
  s.mutable_memory()->mutable_working_set_bytes()->set_value(4096);
  nlohmann::json j = stats_json(s);
  EXPECT_EQ(j["id"], "c1");
  EXPECT_EQ(j["name"], "web");
  EXPECT_EQ(j["cpu_usage_core_nano_seconds"].get<uint64_t>(), 12345678901234ull);
  EXPECT_FALSE(j.contains("cpu_usage_nano_cores"));
  EXPECT_EQ(j["memory_working_set_bytes"].get<uint64_t>(), 4096u);
  EXPECT_FALSE(j.contains("memory_rss_bytes"));
  EXPECT_FALSE(j.contains("writable_layer_used_bytes"));
}

TEST(CriConfig, ToJsonKeepsZeroValuedStates) {
  v1::PodSandbox p;
  p.set_id("x");
  nlohmann::json j = to_json(p);
  EXPECT_EQ(j["state"], "SANDBOX_READY");
  EXPECT_EQ(j["id"], "x");
}

TEST(CriConfig, Summarize) {
  Summary s = summarize({30, 10, 20});
  EXPECT_DOUBLE_EQ(s.median, 20);
  EXPECT_DOUBLE_EQ(s.min, 10);
  EXPECT_DOUBLE_EQ(s.max, 30);
  EXPECT_DOUBLE_EQ(s.mean, 20);
  EXPECT_DOUBLE_EQ(summarize({4, 1, 3, 2}).median, 2.5);
  EXPECT_DOUBLE_EQ(summarize({}).median, 0);
}

}  // namespace
}  // namespace vmrt::cri
