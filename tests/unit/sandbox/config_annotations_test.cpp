// The io.vmrt.config.* annotations of a pod's spec under the operator's
// policy, and sandbox_config(), which applies them to the file's values.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include "common/error.h"
#include "common/tempdir.h"
#include "sandbox/config.h"
#include "tests/unit/sandbox/config_test_support.h"

namespace vmrt::sandbox {
namespace {

using namespace config_test;
using ::testing::HasSubstr;

TEST(RuntimeConfigAnnotations, EachKey) {
  RuntimeConfig base = open_policy();
  base.kernel_params = "quiet";
  RuntimeConfig c = apply_annotations(base, {{"io.vmrt.config.vcpus", "4"},
                                             {"io.vmrt.config.memory_mib", "2048"},
                                             {"io.vmrt.config.kernel_params", "loglevel=7"},
                                             {"io.vmrt.config.fs_cache", "none"},
                                             {"io.vmrt.config.boot_timeout_s", "90"}});
  EXPECT_EQ(c.vcpus, 4u);
  EXPECT_EQ(c.memory_mib, 2048u);
  EXPECT_EQ(c.kernel_params, "quiet loglevel=7") << "the host's parameters stay";
  EXPECT_EQ(c.fs_cache, "none");
  EXPECT_EQ(c.boot_timeout, std::chrono::seconds(90));
  EXPECT_EQ(c.vmm, base.vmm);
  EXPECT_EQ(
      apply_annotations(open_policy(), {{"io.vmrt.config.kernel_params", "a=1"}}).kernel_params,
      "a=1");
}

TEST(RuntimeConfigAnnotations, OtherAnnotationsAreIgnored) {
  RuntimeConfig c = apply_annotations(default_config(), {{"io.kubernetes.cri.sandbox-id", "abc"},
                                                         {"io.vmrt.other", "x"},
                                                         {"io.vmrt.config", "x"},
                                                         {"org.example.vcpus", "99"}});
  EXPECT_EQ(c, default_config());
}

TEST(RuntimeConfigAnnotations, PathKeysAreRefused) {
  for (const char* key : {"vmm", "kernel", "image", "log_level"})
    EXPECT_EQ(annotation_error({{std::string("io.vmrt.config.") + key, "/tmp/x"}}),
              fmt::format("annotation io.vmrt.config.{0}: only the runtime configuration file "
                          "sets {0}",
                          key));
}

TEST(RuntimeConfigAnnotations, UnknownKeyIsRefused) {
  EXPECT_THAT(annotation_error({{"io.vmrt.config.vcpu", "2"}}),
              HasSubstr("annotation io.vmrt.config.vcpu: unknown key \"vcpu\""));
  EXPECT_THAT(annotation_error({{"io.vmrt.config.", "2"}}), HasSubstr("unknown key \"\""));
}

TEST(RuntimeConfigAnnotations, BadValuesNameTheAnnotation) {
  EXPECT_EQ(annotation_error({{"io.vmrt.config.vcpus", "0"}}),
            "annotation io.vmrt.config.vcpus: expected an integer from 1 to 64, got \"0\"");
  for (const char* bad : {"", "x", "2x", " 2", "+2", "-2", "2.0", "99999999999999999999"})
    EXPECT_THAT(annotation_error({{"io.vmrt.config.memory_mib", bad}}),
                HasSubstr("annotation io.vmrt.config.memory_mib: expected an integer from 64"))
        << '"' << bad << '"';
  EXPECT_THAT(annotation_error({{"io.vmrt.config.boot_timeout_s", "3601"}}),
              HasSubstr("annotation io.vmrt.config.boot_timeout_s: expected an integer from 1 to "
                        "3600, got \"3601\""));
  EXPECT_EQ(annotation_error({{"io.vmrt.config.fs_cache", "never"}}),
            "annotation io.vmrt.config.fs_cache: expected one of none, auto, always, got "
            "\"never\"");
  EXPECT_THAT(annotation_error({{"io.vmrt.config.kernel_params", "a\nb"}}),
              HasSubstr("annotation io.vmrt.config.kernel_params: expected printable ASCII"));
}

// --- the operator's policy: what a pod's spec may change -------------------

TEST(RuntimeConfigAnnotations, NoneIsHonouredByDefault) {
  for (const char* key : {"vcpus", "memory_mib", "fs_cache", "boot_timeout_s"})
    EXPECT_EQ(annotation_error({{std::string("io.vmrt.config.") + key, "1"}}, default_config()),
              fmt::format("annotation io.vmrt.config.{}: not allowed by built-in configuration "
                          "(annotations.allowed = [])",
                          key));
  EXPECT_THAT(
      annotation_error({{"io.vmrt.config.kernel_params", "init=/bin/sh"}}, default_config()),
      HasSubstr("annotation io.vmrt.config.kernel_params: not allowed: guest kernel "
                "parameters from a pod need annotations.kernel_params = true"));
  // Refused, not ignored: one bad annotation among harmless ones still fails.
  EXPECT_THAT(annotation_error({{"io.kubernetes.cri.sandbox-id", "abc"},
                                {"io.vmrt.config.memory_mib", "1048576"}},
                               default_config()),
              HasSubstr("io.vmrt.config.memory_mib: not allowed"));
}

TEST(RuntimeConfigAnnotations, OnlyTheListedKeysAreHonoured) {
  RuntimeConfig c = parse_config("[annotations]\nallowed = [\"vcpus\", \"fs_cache\"]\n", kFile);
  c.annotations.max_vcpus = 4;
  RuntimeConfig applied =
      apply_annotations(c, {{"io.vmrt.config.vcpus", "3"}, {"io.vmrt.config.fs_cache", "none"}});
  EXPECT_EQ(applied.vcpus, 3u);
  EXPECT_EQ(applied.fs_cache, "none");
  EXPECT_EQ(annotation_error({{"io.vmrt.config.memory_mib", "512"}}, c),
            "annotation io.vmrt.config.memory_mib: not allowed by /etc/vmrt/config.toml "
            "(annotations.allowed = [fs_cache, vcpus])");
  EXPECT_THAT(annotation_error({{"io.vmrt.config.kernel_params", "quiet"}}, c),
              HasSubstr("need annotations.kernel_params = true in /etc/vmrt/config.toml"));
  // Unknown keys and the file's own keys stay refused whatever is allowed.
  EXPECT_THAT(annotation_error({{"io.vmrt.config.vcpu", "2"}}, c), HasSubstr("unknown key"));
  EXPECT_THAT(annotation_error({{"io.vmrt.config.kernel", "/tmp/evil"}}, c),
              HasSubstr("only the runtime configuration file sets kernel"));
}

TEST(RuntimeConfigAnnotations, KernelParamsOnlyWithTheirOwnSwitch) {
  RuntimeConfig c = open_policy();
  c.annotations.kernel_params = false;
  EXPECT_THAT(annotation_error({{"io.vmrt.config.kernel_params", "init=/bin/sh"}}, c),
              HasSubstr("not allowed: guest kernel parameters from a pod need "
                        "annotations.kernel_params = true in built-in configuration"));
  EXPECT_THAT(parse_error("[annotations]\nallowed = [\"kernel_params\"]\n"),
              HasSubstr("annotations.allowed: kernel_params is not listed here: "
                        "annotations.kernel_params = true allows it"));
  c = parse_config("[hypervisor]\nkernel_params = \"quiet\"\n[annotations]\nkernel_params = true\n",
                   kFile);
  EXPECT_TRUE(c.annotations.allowed.empty());
  EXPECT_EQ(apply_annotations(c, {{"io.vmrt.config.kernel_params", "loglevel=7"}}).kernel_params,
            "quiet loglevel=7");
}

TEST(RuntimeConfigAnnotations, SizesAboveTheMaximaAreRefusedNamingTheLimit) {
  RuntimeConfig c = parse_config(R"([annotations]
allowed = ["vcpus", "memory_mib"]
max_vcpus = 2
max_memory_mib = 1024
)",
                                 kFile);
  RuntimeConfig at_limit =
      apply_annotations(c, {{"io.vmrt.config.vcpus", "2"}, {"io.vmrt.config.memory_mib", "1024"}});
  EXPECT_EQ(at_limit.vcpus, 2u);
  EXPECT_EQ(at_limit.memory_mib, 1024u);
  EXPECT_EQ(annotation_error({{"io.vmrt.config.vcpus", "3"}}, c),
            "annotation io.vmrt.config.vcpus: 3 is above the limit of 2 (annotations.max_vcpus "
            "in /etc/vmrt/config.toml)");
  // What the README's pod_annotations used to let any pod ask for.
  EXPECT_EQ(annotation_error({{"io.vmrt.config.vcpus", "64"}}, c),
            "annotation io.vmrt.config.vcpus: 64 is above the limit of 2 (annotations.max_vcpus "
            "in /etc/vmrt/config.toml)");
  EXPECT_EQ(annotation_error({{"io.vmrt.config.memory_mib", "1048576"}}, c),
            "annotation io.vmrt.config.memory_mib: 1048576 is above the limit of 1024 "
            "(annotations.max_memory_mib in /etc/vmrt/config.toml)");
  // Malformed values are refused as such before the limit is looked at.
  for (const char* bad : {"", "2x", "-1", " 1", "0x2", "99999999999999999999", "1e3"})
    EXPECT_THAT(annotation_error({{"io.vmrt.config.vcpus", bad}}, c),
                HasSubstr("annotation io.vmrt.config.vcpus: expected an integer from 1 to 64"))
        << '"' << bad << '"';
}

TEST(RuntimeConfigAnnotations, DefaultMaximaComeFromTheHost) {
  RuntimeConfig d = default_config();
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  EXPECT_EQ(d.annotations.max_vcpus, static_cast<uint32_t>(std::clamp(cpus, 1L, 64L)));
  uint64_t half_mib =
      uint64_t(::sysconf(_SC_PHYS_PAGES)) * uint64_t(::sysconf(_SC_PAGESIZE)) / 2 >> 20;
  EXPECT_EQ(d.annotations.max_memory_mib, std::clamp<uint64_t>(half_mib, 64, 1 << 20));
  EXPECT_TRUE(d.annotations.allowed.empty());
  EXPECT_FALSE(d.annotations.kernel_params);
}

TEST(RuntimeConfigFile, SandboxConfigAppliesTheFilesPolicyAndValidates) {
  TempDir dir("config-test");
  for (const char* f : {"vmm", "kernel", "image"}) write(dir.path() / f, "x", 0755);
  std::filesystem::path file = dir.path() / "config.toml";
  write(file, fmt::format(R"([hypervisor]
vmm = "{0}/vmm"
kernel = "{0}/kernel"
image = "{0}/image"
[annotations]
allowed = ["memory_mib"]
max_memory_mib = 512
)",
                          dir.path().string()));
  EXPECT_EQ(sandbox_config(file, {{"io.vmrt.config.memory_mib", "512"}}).memory_mib, 512u);
  EXPECT_EQ(error_text([&] {
              sandbox_config(file, {{"io.vmrt.config.memory_mib", "513"}});
            }),
            fmt::format("annotation io.vmrt.config.memory_mib: 513 is above the limit of 512 "
                        "(annotations.max_memory_mib in {})",
                        file.string()));
  EXPECT_THAT(error_text([&] {
                sandbox_config(file, {{"io.vmrt.config.vcpus", "1"}});
              }),
              HasSubstr("io.vmrt.config.vcpus: not allowed by " + file.string()));
  EXPECT_THAT(error_text([&] { sandbox_config(dir.path() / "none.toml", {}); }),
              HasSubstr("none.toml"));
}

}  // namespace
}  // namespace vmrt::sandbox
