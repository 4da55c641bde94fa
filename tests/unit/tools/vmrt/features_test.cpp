// `vmrt features`: the document's shape, what it promises about the agent,
// and the runtime configuration under its annotations.
#include "tools/vmrt/features.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "tools/vmrt/default_spec.h"

namespace vmrt::cli {
namespace {

using nlohmann::json;

bool has(const json& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

TEST(Features, VersionsAndTopLevelKeys) {
  json f = features(sandbox::default_config());
  EXPECT_EQ(f.at("ociVersionMin"), "1.0.0");
  EXPECT_EQ(f.at("ociVersionMax"), "1.1.0");
  for (const char* key : {"hooks", "mountOptions", "linux", "annotations"})
    EXPECT_TRUE(f.contains(key)) << key;
  // `vmrt spec` writes a version inside the range it states.
  std::string v = default_spec().at("ociVersion");
  EXPECT_GE(v, f.at("ociVersionMin").get<std::string>());
  EXPECT_LE(v, f.at("ociVersionMax").get<std::string>());
}

TEST(Features, StatesWhatTheAgentImplements) {
  json f = features(sandbox::default_config());
  EXPECT_EQ(f.at("hooks"), json({"prestart", "createRuntime", "poststart", "poststop"}))
      << "the CLI runs these on the host; the in-container ones cannot be";
  const json& linux = f.at("linux");
  EXPECT_EQ(linux.at("namespaces"), json({"cgroup", "ipc", "mount", "network", "pid", "uts"}));
  EXPECT_FALSE(has(linux.at("namespaces"), "user"));
  EXPECT_FALSE(has(linux.at("namespaces"), "time"));
  EXPECT_EQ(linux.at("capabilities").size(), 41u);
  EXPECT_EQ(linux.at("capabilities").front(), "CAP_CHOWN");
  EXPECT_EQ(linux.at("capabilities").back(), "CAP_CHECKPOINT_RESTORE");
  EXPECT_EQ(linux.at("cgroup"), json({{"v1", false},
                                      {"v2", true},
                                      {"systemd", false},
                                      {"systemdUser", false},
                                      {"rdma", false}}));
  const json& seccomp = linux.at("seccomp");
  EXPECT_TRUE(seccomp.at("enabled"));
  EXPECT_FALSE(has(seccomp.at("actions"), "SCMP_ACT_NOTIFY")) << "no seccomp agents";
  EXPECT_TRUE(has(seccomp.at("actions"), "SCMP_ACT_ERRNO"));
  EXPECT_EQ(seccomp.at("operators").size(), 7u);
  EXPECT_TRUE(has(seccomp.at("archs"), "SCMP_ARCH_X86_64"));
  EXPECT_EQ(seccomp.at("knownFlags"), seccomp.at("supportedFlags"));
  for (const char* lsm : {"apparmor", "selinux", "intelRdt"})
    EXPECT_EQ(linux.at(lsm), json({{"enabled", false}})) << lsm;
  EXPECT_FALSE(linux.at("mountExtensions").at("idmap").at("enabled"));
  const json& options = f.at("mountOptions");
  for (const char* o : {"bind", "rbind", "ro", "nosuid", "rprivate", "strictatime", "tmpcopyup"})
    EXPECT_TRUE(has(options, o)) << o;
  for (const char* o : {"idmap", "rro"}) EXPECT_FALSE(has(options, o)) << o;
  EXPECT_TRUE(std::is_sorted(options.begin(), options.end()));
}

TEST(Features, ConfigurationUnderAnnotations) {
  sandbox::RuntimeConfig c = sandbox::default_config();
  c.vcpus = 2;
  c.memory_mib = 512;
  c.fs_cache = "none";
  c.source = "/etc/vmrt/config.toml";
  const json a = features(c).at("annotations");
  EXPECT_EQ(a.at("io.vmrt.config.vcpus"), "2");
  EXPECT_EQ(a.at("io.vmrt.config.memory_mib"), "512");
  EXPECT_EQ(a.at("io.vmrt.config.boot_timeout_s"), "30");
  EXPECT_EQ(a.at("io.vmrt.config.fs_cache"), "none");
  EXPECT_EQ(a.at("io.vmrt.config.kernel"), c.kernel.string());
  EXPECT_EQ(a.at("io.vmrt.config.source"), "/etc/vmrt/config.toml");
  EXPECT_FALSE(a.at("io.vmrt.version").get<std::string>().empty());
  // The RuntimeClass overhead for this configuration: its base memory
  // and the host-side processes.
  EXPECT_EQ(a.at("io.vmrt.pod-overhead.memory"), "536Mi");
  EXPECT_EQ(a.at("io.vmrt.pod-overhead.cpu"), "250m");
  for (const auto& [key, value] : a.items()) EXPECT_TRUE(value.is_string()) << key;
}

}  // namespace
}  // namespace vmrt::cli
