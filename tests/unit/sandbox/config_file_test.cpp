// Loading the runtime configuration file, the file checks of validate() and
// the JSON form of a configuration.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/tempdir.h"
#include "sandbox/config.h"
#include "tests/unit/sandbox/config_test_support.h"

namespace vmrt::sandbox {
namespace {

using namespace config_test;
using ::testing::HasSubstr;

TEST(RuntimeConfigFile, MissingFileIsAnErrorOnlyWhenNamed) {
  TempDir dir("config-test");
  std::filesystem::path missing = dir.path() / "none.toml";
  RuntimeConfig c = load_config(missing, false);
  EXPECT_EQ(c, default_config());
  EXPECT_TRUE(c.source.empty());
  std::string e = error_text([&] { load_config(missing, true); });
  EXPECT_THAT(e, HasSubstr(missing.string()));
  EXPECT_THAT(e, HasSubstr("No such file or directory"));
}

TEST(RuntimeConfigFile, LoadsAndNamesTheFile) {
  TempDir dir("config-test");
  std::filesystem::path file = dir.path() / "config.toml";
  write(file, "[hypervisor]\nvcpus = 3\n");
  RuntimeConfig c = load_config(file, true);
  EXPECT_EQ(c.vcpus, 3u);
  EXPECT_EQ(c.source, file);
  write(file, "[hypervisor]\n\nvcpus = 300\n");
  EXPECT_THAT(error_text([&] { load_config(file, false); }),
              HasSubstr(file.string() + ":3:9: hypervisor.vcpus"));
  // A directory exists but is no file: an error even when optional.
  EXPECT_THAT(error_text([&] { load_config(dir.path(), false); }),
              HasSubstr("cannot read the runtime configuration"));
}

class RuntimeConfigValidate : public ::testing::Test {
 protected:
  void SetUp() override {
    config.vmm = dir.path() / "vmrt-vmm";
    config.kernel = dir.path() / "vmlinux";
    config.image = dir.path() / "initramfs.cpio.gz";
    config.source = "/etc/vmrt/config.toml";
    write(config.vmm, "#!/bin/sh\n", 0755);
    write(config.kernel, "kernel");
    write(config.image, "image");
  }
  std::string error() const {
    return error_text([&] { validate(config); });
  }

  TempDir dir{"config-test"};
  RuntimeConfig config;
};

TEST_F(RuntimeConfigValidate, AcceptsExistingFiles) { EXPECT_EQ(error(), ""); }

TEST_F(RuntimeConfigValidate, NamesAMissingKernel) {
  std::filesystem::remove(config.kernel);
  EXPECT_EQ(error(), fmt::format("/etc/vmrt/config.toml: hypervisor.kernel: cannot use {}: No "
                                 "such file or directory",
                                 config.kernel.string()));
}

TEST_F(RuntimeConfigValidate, NamesTheBuiltInDefaultsWhenNoFile) {
  config.source.clear();
  std::filesystem::remove(config.image);
  EXPECT_THAT(error(), HasSubstr("built-in configuration: hypervisor.image: cannot use"));
}

TEST_F(RuntimeConfigValidate, VmmMustBeAnExecutableRegularFile) {
  ASSERT_EQ(::chmod(config.vmm.c_str(), 0644), 0);
  // root may read anything, but execute only what has an x bit.
  EXPECT_THAT(error(), HasSubstr("hypervisor.vmm: cannot execute"));
  config.vmm = dir.path();
  EXPECT_THAT(error(),
              HasSubstr("hypervisor.vmm: " + dir.path().string() + " is not a regular file"));
}

TEST_F(RuntimeConfigValidate, ChecksRangesAndNames) {
  RuntimeConfig good = config;
  config.vcpus = 0;
  EXPECT_EQ(error(),
            "/etc/vmrt/config.toml: hypervisor.vcpus: expected an integer from 1 to 64, got 0");
  config = good;
  config.memory_mib = uint64_t(1) << 63;
  EXPECT_THAT(error(), HasSubstr("hypervisor.memory_mib: expected an integer from 64"));
  config = good;
  config.boot_timeout = std::chrono::seconds(-1);
  EXPECT_THAT(error(), HasSubstr("hypervisor.boot_timeout_s"));
  config = good;
  config.fs_cache = "fast";
  EXPECT_THAT(error(), HasSubstr("virtiofs.cache: expected one of none, auto, always"));
  config = good;
  config.log_level = "loud";
  EXPECT_THAT(error(), HasSubstr("log.level: expected one of"));
}

// Every key with a rule is checked, the jail's too, as the parser checks it.
TEST_F(RuntimeConfigValidate, ChecksTheJailsValues) {
  RuntimeConfig good = config;
  config.jail_uid = 0;
  EXPECT_EQ(error(),
            "/etc/vmrt/config.toml: jail.uid: expected an integer from 1 to 4294967294, got 0");
  config = good;
  config.cgroup_parent = "../escape";
  EXPECT_THAT(error(), HasSubstr("jail.cgroup_parent: expected a cgroup path relative"));
  config = good;
  config.annotations.allowed = {"kernel"};
  EXPECT_THAT(error(), HasSubstr("annotations.allowed: expected one of vcpus"));
}

TEST(RuntimeConfigFile, TheBuildTreesDevelopmentConfigParses) {
  RuntimeConfig c = load_config(VMRT_DEV_CONFIG, true);
  EXPECT_EQ(c.vmm.filename(), "vmrt-vmm");
  EXPECT_EQ(c.kernel.filename(), "vmlinux");
  EXPECT_EQ(c.image.filename(), "initramfs.cpio.gz");
  EXPECT_EQ(c.boot_timeout, std::chrono::seconds(120));
  EXPECT_EQ(c.vcpus, default_config().vcpus);
}

TEST(RuntimeConfigJson, EveryKeyAndTheSource) {
  RuntimeConfig c = default_config();
  c.source = kFile;
  nlohmann::json j = to_json(c);
  EXPECT_EQ(j.at("vmm"), c.vmm.string());
  EXPECT_EQ(j.at("kernel"), c.kernel.string());
  EXPECT_EQ(j.at("image"), c.image.string());
  EXPECT_EQ(j.at("kernel_params"), "");
  EXPECT_EQ(j.at("vcpus"), 1);
  EXPECT_EQ(j.at("memory_mib"), 256);
  EXPECT_EQ(j.at("boot_timeout_s"), 30);
  EXPECT_EQ(j.at("template"), true);
  EXPECT_EQ(j.at("template_dir"), "/run/vmrt-templates");
  EXPECT_EQ(j.at("template_memory"), "shared");
  EXPECT_EQ(j.at("fs_cache"), "auto");
  EXPECT_EQ(j.at("log_level"), "info");
  EXPECT_EQ(j.at("jail"), true);
  EXPECT_EQ(j.at("jail_uid"), 65534);
  EXPECT_EQ(j.at("jail_gid"), 65534);
  EXPECT_EQ(j.at("cgroup_parent"), "vmrt");
  EXPECT_EQ(j.at("pod_cgroup"), true);
  EXPECT_EQ(j.at("allowed_annotations"), nlohmann::json::array());
  EXPECT_EQ(j.at("annotation_kernel_params"), false);
  EXPECT_EQ(j.at("annotation_max_vcpus"), c.annotations.max_vcpus);
  EXPECT_EQ(j.at("annotation_max_memory_mib"), c.annotations.max_memory_mib);
  EXPECT_EQ(j.at("debug_console"), false);
  EXPECT_EQ(j.at("source"), kFile);
  EXPECT_EQ(j.size(), 23u);
}

}  // namespace
}  // namespace vmrt::sandbox
