// vmrt check's checks against a made-up host: each one's verdict and the
// line it says, for the hosts and files an operator may have.

#include "tools/vmrt/host_check.h"

#include <asm/bootparam.h>
#include <elf.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstring>
#include <fstream>

#include "common/tempdir.h"

namespace vmrt::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class HostCheck : public ::testing::Test {
 protected:
  fs::path write(const std::string& name, const std::string& bytes) {
    fs::path p = dir_.path() / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  fs::path write_gzip(const std::string& name, const std::string& bytes) {
    fs::path p = dir_.path() / name;
    gzFile f = gzopen(p.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
    return p;
  }
  // The first page of a vmlinux: an ELF header for `machine`.
  static std::string elf(uint16_t machine, uint16_t type = ET_EXEC) {
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_type = type;
    eh.e_machine = machine;
    std::string out(4096, '\0');
    std::memcpy(out.data(), &eh, sizeof eh);
    return out;
  }
  // The first pages of a bzImage with boot protocol `version`.
  static std::string bzimage(uint16_t version, uint16_t xloadflags = XLF_KERNEL_64) {
    setup_header h{};
    h.boot_flag = 0xaa55;
    std::memcpy(&h.header, "HdrS", 4);
    h.version = version;
    h.xloadflags = xloadflags;
    h.loadflags = LOADED_HIGH;
    std::string out(8192, '\0');
    std::memcpy(out.data() + offsetof(boot_params, hdr), &h, sizeof h);
    return out;
  }

  TempDir dir_{"host-check"};
};

// --- kvm ---

class KvmCheck : public HostCheck {
 protected:
  KvmCheck() {
    view_.dev_kvm = dir_.path() / "kvm";
    view_.sys_module = dir_.path() / "module";
    view_.cpuinfo = write("cpuinfo", "processor\t: 0\nflags\t\t: fpu vmx lm\n");
    fs::create_directories(view_.sys_module);
  }
  void dev_kvm() { write("kvm", std::string(1, '\0')); }
  void module(const char* name) { fs::create_directory(view_.sys_module / name); }
  static int api12(int) { return 12; }

  sandbox::HostKvmView view_;
};

TEST_F(KvmCheck, NoDeviceFails) {
  CheckResult r = check_kvm(view_, api12);
  EXPECT_EQ(r.level, CheckLevel::kFail);
  EXPECT_THAT(r.message, HasSubstr("no " + view_.dev_kvm.string()));
}

TEST_F(KvmCheck, PvmFailsNamingIt) {
  dev_kvm();
  module("kvm_pvm");
  CheckResult r = check_kvm(view_, api12);
  EXPECT_EQ(r.level, CheckLevel::kFail);
  EXPECT_THAT(format_line(r), HasSubstr("FAIL kvm: "));
  EXPECT_THAT(r.message, HasSubstr("PVM"));
  EXPECT_THAT(r.message, HasSubstr("cannot boot a guest kernel"));
}

TEST_F(KvmCheck, HardwareKvmIsUsable) {
  dev_kvm();
  module("kvm_intel");
  CheckResult r = check_kvm(view_, api12);
  EXPECT_EQ(r.level, CheckLevel::kOk) << r.message;
  EXPECT_THAT(format_line(r), HasSubstr("ok   kvm: "));
  EXPECT_THAT(r.message, HasSubstr("VT-x"));
}

TEST_F(KvmCheck, OtherApiVersionFails) {
  dev_kvm();
  module("kvm_amd");
  CheckResult r = check_kvm(view_, [](int) { return 11; });
  EXPECT_EQ(r.level, CheckLevel::kFail);
  EXPECT_THAT(r.message, HasSubstr("API version 11, vmrt needs 12"));
}

TEST_F(KvmCheck, AFileThatIsNoKvmDeviceFails) {
  dev_kvm();
  module("kvm_intel");
  CheckResult r = check_kvm(view_);  // the real ioctl, on a plain file
  EXPECT_EQ(r.level, CheckLevel::kFail);
  EXPECT_THAT(r.message, HasSubstr("not a KVM device"));
}

TEST_F(KvmCheck, KvmWithoutHardwareVirtualizationFails) {
  dev_kvm();
  module("kvm_intel");
  write("cpuinfo", "processor\t: 0\nflags\t\t: fpu lm\n");
  CheckResult r = check_kvm(view_, api12);
  EXPECT_EQ(r.level, CheckLevel::kFail);
  EXPECT_THAT(r.message, HasSubstr("cannot boot a guest kernel"));
}

// --- kernel, image, vmm ---

TEST_F(HostCheck, MissingKernelFails) {
  CheckResult r = check_kernel(dir_.path() / "vmlinux");
  EXPECT_EQ(r.level, CheckLevel::kFail);
  EXPECT_THAT(r.message, HasSubstr("cannot read " + (dir_.path() / "vmlinux").string()));
}

TEST_F(HostCheck, KernelFormats) {
  EXPECT_EQ(check_kernel(write("vmlinux", elf(EM_X86_64))).level, CheckLevel::kOk);
  CheckResult bz = check_kernel(write("bzImage", bzimage(0x020f)));
  EXPECT_EQ(bz.level, CheckLevel::kOk) << bz.message;
  EXPECT_THAT(bz.message, HasSubstr("bzImage, boot protocol 2.15"));

  CheckResult arm = check_kernel(write("arm", elf(EM_AARCH64)));
  EXPECT_EQ(arm.level, CheckLevel::kFail);
  EXPECT_THAT(arm.message, HasSubstr("not x86-64"));
  EXPECT_EQ(check_kernel(write("so", elf(EM_X86_64, ET_DYN))).level, CheckLevel::kFail);
  CheckResult old = check_kernel(write("old", bzimage(0x020a)));
  EXPECT_EQ(old.level, CheckLevel::kFail);
  EXPECT_THAT(old.message, HasSubstr("boot protocol 2.10"));
  EXPECT_EQ(check_kernel(write("no64", bzimage(0x020f, 0))).level, CheckLevel::kFail);
  CheckResult text = check_kernel(write("text", "#!/bin/sh\n"));
  EXPECT_EQ(text.level, CheckLevel::kFail);
  EXPECT_THAT(text.message, HasSubstr("neither an ELF vmlinux nor a bzImage"));
  EXPECT_EQ(check_kernel(dir_.path()).level, CheckLevel::kFail);  // a directory
}

TEST_F(HostCheck, ImageIsAPlainOrGzippedNewcCpio) {
  std::string cpio = "070701" + std::string(200, '0');
  EXPECT_EQ(check_image(write("plain.cpio", cpio)).level, CheckLevel::kOk);
  CheckResult gz = check_image(write_gzip("image.cpio.gz", cpio));
  EXPECT_EQ(gz.level, CheckLevel::kOk) << gz.message;
  EXPECT_THAT(gz.message, HasSubstr("gzip-compressed newc cpio"));

  CheckResult tar = check_image(write_gzip("image.tar.gz", std::string(512, 'x')));
  EXPECT_EQ(tar.level, CheckLevel::kFail);
  EXPECT_THAT(tar.message, HasSubstr("not a newc cpio archive inside its gzip"));
  EXPECT_EQ(check_image(write("zstd", "\x28\xb5\x2f\xfd rest")).level, CheckLevel::kFail);
  EXPECT_EQ(check_image(write("empty", "")).level, CheckLevel::kFail);
  EXPECT_EQ(check_image(dir_.path() / "missing").level, CheckLevel::kFail);
}

// A jailed VMM reads the kernel and image as the jail's uid and gid.
TEST_F(HostCheck, KernelAndImageMustBeReadableByTheJailedVmm) {
  fs::path kernel = write("vmlinux", elf(EM_X86_64));
  fs::path image = write("image.cpio", "070701" + std::string(200, '0'));
  const uid_t me = ::getuid();
  const gid_t my_group = ::getgid();
  JailIds other{me + 1000, my_group + 1000};
  for (const fs::path& f : {kernel, image}) fs::permissions(f, fs::perms::owner_read);
  CheckResult k = check_kernel(kernel, other);
  EXPECT_EQ(k.level, CheckLevel::kFail);
  EXPECT_THAT(k.message,
              HasSubstr("cannot be read by the jailed VMM's uid " + std::to_string(other.uid)));
  EXPECT_EQ(check_image(image, other).level, CheckLevel::kFail);
  // The owner reads it; so does anyone once it is world-readable.
  EXPECT_EQ(check_kernel(kernel, JailIds{me, my_group + 1000}).level, CheckLevel::kOk);
  fs::permissions(image, fs::perms::others_read, fs::perm_options::add);
  EXPECT_EQ(check_image(image, other).level, CheckLevel::kOk);
  // Group-readable only: for the file's group.
  fs::permissions(kernel, fs::perms::owner_read | fs::perms::group_read);
  EXPECT_EQ(check_kernel(kernel, JailIds{me + 1000, my_group}).level, CheckLevel::kOk);
  EXPECT_EQ(check_kernel(kernel, other).level, CheckLevel::kFail);
}

TEST_F(HostCheck, VmmMustBeAnExecutableFile) {
  fs::path vmm = write("vmrt-vmm", "#!/bin/sh\n");
  CheckResult r = check_vmm(vmm);
  EXPECT_EQ(r.level, CheckLevel::kFail);
  EXPECT_THAT(r.message, HasSubstr("not executable"));
  fs::permissions(vmm, fs::perms::owner_all);
  EXPECT_EQ(check_vmm(vmm).level, CheckLevel::kOk);
  EXPECT_EQ(check_vmm(dir_.path() / "missing").level, CheckLevel::kFail);
  EXPECT_THAT(check_vmm(dir_.path()).message, HasSubstr("not a file"));
}

// --- jail, directories, tun ---

TEST(JailCheck, UidOrGidZeroIsRefused) {
  sandbox::RuntimeConfig c;
  EXPECT_EQ(check_jail(c).level, CheckLevel::kOk);
  c.jail_uid = 0;
  CheckResult r = check_jail(c);
  EXPECT_EQ(r.level, CheckLevel::kFail);
  EXPECT_THAT(r.message, HasSubstr("must not keep uid or gid 0"));
  c.jail_uid = 1000;
  c.jail_gid = 0;
  EXPECT_EQ(check_jail(c).level, CheckLevel::kFail);
  c.jail = false;
  EXPECT_EQ(check_jail(c).level, CheckLevel::kWarn);
}

TEST_F(HostCheck, StateRootWritableOrMakeable) {
  EXPECT_EQ(check_writable_dir("state", dir_.path()).level, CheckLevel::kOk);
  CheckResult later = check_writable_dir("state", dir_.path() / "a/b");
  EXPECT_EQ(later.level, CheckLevel::kOk);
  EXPECT_THAT(later.message, HasSubstr("can be made"));
  fs::path file = write("file", "x");
  CheckResult under_file = check_writable_dir("state", file / "state");
  EXPECT_EQ(under_file.level, CheckLevel::kFail);
  EXPECT_THAT(under_file.message, HasSubstr("is not a directory"));
}

TEST_F(HostCheck, MissingTunIsAWarning) {
  EXPECT_EQ(check_tun(dir_.path() / "tun").level, CheckLevel::kWarn);
  EXPECT_EQ(check_tun(write("tun", "")).level, CheckLevel::kOk);
}

// --- cgroups ---

class CgroupCheck : public HostCheck {
 protected:
  std::string v2(const std::string& controllers) {
    fs::path mount = dir_.path() / "unified";
    write("unified/cgroup.controllers", controllers + "\n");
    return "30 23 0:27 / " + mount.string() + " rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
  }
  static std::string v1(const std::string& controller) {
    return "32 31 0:29 / /sys/fs/cgroup/" + controller + " rw - cgroup cgroup rw," + controller +
           "\n";
  }
  sandbox::RuntimeConfig config_;
};

TEST_F(CgroupCheck, UnifiedWithEveryController) {
  CheckResult r = check_cgroups(v2("cpuset cpu io memory pids"), config_);
  EXPECT_EQ(r.level, CheckLevel::kOk) << r.message;
  EXPECT_THAT(r.message, HasSubstr("cgroup v2 at " + (dir_.path() / "unified").string()));
}

TEST_F(CgroupCheck, UnifiedWithoutPidsFails) {
  CheckResult r = check_cgroups(v2("cpu memory"), config_);
  EXPECT_EQ(r.level, CheckLevel::kFail);
  EXPECT_THAT(r.message, HasSubstr("lacks the pids controller"));
}

TEST_F(CgroupCheck, LegacyAndHybridUseTheV1Hierarchies) {
  std::string legacy = v1("cpu,cpuacct") + v1("memory") + v1("pids");
  CheckResult r = check_cgroups(legacy, config_);
  EXPECT_EQ(r.level, CheckLevel::kOk) << r.message;
  EXPECT_EQ(r.message,
            "cgroup v1: memory at /sys/fs/cgroup/memory, cpu at /sys/fs/cgroup/cpu,cpuacct, pids "
            "at /sys/fs/cgroup/pids");
  // systemd's hybrid layout: a cgroup2 mount holding no controller.
  EXPECT_EQ(check_cgroups(v2("") + legacy, config_).level, CheckLevel::kOk);
}

TEST_F(CgroupCheck, MissingControllerFailsOnlyWhenVmmsUseCgroups) {
  std::string no_pids = v1("cpu") + v1("memory");
  CheckResult r = check_cgroups(no_pids, config_);
  EXPECT_EQ(r.level, CheckLevel::kFail);
  EXPECT_THAT(r.message, HasSubstr("no cgroup hierarchy has the pids controller"));
  config_.cgroup_parent = "";
  config_.pod_cgroup = false;
  EXPECT_EQ(check_cgroups(no_pids, config_).level, CheckLevel::kWarn);
}

// --- containerd ---

TEST_F(HostCheck, ContainerdWithTheVmrtRuntime) {
  fs::path conf = write("config.toml", R"(version = 2
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.vmrt]
  runtime_type = "io.containerd.vmrt.v1"
)");
  CheckResult r = check_containerd(conf);
  EXPECT_EQ(r.level, CheckLevel::kOk) << r.message;
  EXPECT_THAT(r.message, HasSubstr("runtime handler \"vmrt\""));
}

TEST_F(HostCheck, ContainerdConfigVersion3) {
  fs::path conf = write("config.toml", R"(version = 3
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.kata-vm]
  runtime_type = 'io.containerd.vmrt.v1'
)");
  EXPECT_THAT(check_containerd(conf).message, HasSubstr("\"kata-vm\""));
}

TEST_F(HostCheck, ContainerdWithoutTheEntryOrFileWarns) {
  fs::path conf = write("config.toml", R"(version = 2
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
)");
  CheckResult r = check_containerd(conf);
  EXPECT_EQ(r.level, CheckLevel::kWarn);
  EXPECT_THAT(r.message, HasSubstr("no runtime with runtime_type \"io.containerd.vmrt.v1\""));
  CheckResult none = check_containerd(dir_.path() / "missing.toml");
  EXPECT_EQ(none.level, CheckLevel::kWarn);
  EXPECT_THAT(none.message, HasSubstr("no " + (dir_.path() / "missing.toml").string()));
}

TEST_F(HostCheck, BrokenContainerdConfigFailsWithItsPosition) {
  fs::path conf = write("config.toml", "version = 2\n[plugins\n");
  CheckResult r = check_containerd(conf);
  EXPECT_EQ(r.level, CheckLevel::kFail);
  EXPECT_THAT(r.message, HasSubstr(conf.string() + ":2:"));
}

// --- the summary ---

TEST(CheckSummary, WarningsDoNotFail) {
  std::vector<CheckResult> results = {{"a", CheckLevel::kOk, "fine"},
                                      {"b", CheckLevel::kWarn, "optional"}};
  EXPECT_TRUE(all_passed(results));
  EXPECT_EQ(format_line(results[1]), "warn b: optional");
  EXPECT_EQ(to_json(results)["ok"], true);
  results.push_back({"c", CheckLevel::kFail, "broken"});
  EXPECT_FALSE(all_passed(results));
  nlohmann::json j = to_json(results);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["checks"][2],
            (nlohmann::json{{"name", "c"}, {"level", "fail"}, {"message", "broken"}}));
}

}  // namespace
}  // namespace vmrt::cli
