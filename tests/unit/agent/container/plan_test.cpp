// Spec -> plan: namespaces, mounts, capabilities, seccomp, rlimits, user,
// hostname/sysctl, process; and the errors malformed specs get.

#include "agent/container/plan.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "tests/support/error_text.h"

namespace vmrt::agent {
namespace {

using nlohmann::json;
using test::error_text;

// A runc-style config (as `runc spec` writes it, without a terminal).
json base() {
  return json::parse(R"({
    "ociVersion": "1.0.2",
    "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/",
                "env": ["PATH=/usr/bin:/bin", "TERM=xterm"],
                "capabilities": {"bounding": ["CAP_KILL", "CAP_CHOWN"],
                                 "effective": ["CAP_KILL"], "permitted": ["CAP_KILL", "CAP_CHOWN"]},
                "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 512}],
                "noNewPrivileges": true},
    "root": {"path": "rootfs", "readonly": true},
    "hostname": "box",
    "mounts": [
      {"destination": "/proc", "type": "proc", "source": "proc"},
      {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
       "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
      {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
       "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
      {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
       "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
    ],
    "linux": {
      "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"},
                     {"type": "mount"}, {"type": "cgroup"}],
      "maskedPaths": ["/proc/kcore", "/sys/firmware"],
      "readonlyPaths": ["/proc/sys"]
    }
  })");
}

ContainerPlan plan_of(const json& j, bool overlay = false) {
  return plan_container(oci::parse_spec(j), {"/bundle", "", overlay, "/state/c1", "c1"});
}

std::string plan_error(const json& j) {
  return error_text([&] { plan_of(j); });
}

TEST(NamespacePlan, CreatesWhatTheSpecLists) {
  ContainerPlan p = plan_of(base());
  EXPECT_EQ(p.namespaces.clone_flags, uint64_t(CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
                                               CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWCGROUP));
  EXPECT_TRUE(p.namespaces.joins.empty());
  EXPECT_TRUE(p.namespaces.is_private(CLONE_NEWUTS));
}

TEST(NamespacePlan, JoinsByPath) {
  json j = base();
  j["linux"]["namespaces"][1]["path"] = "/proc/1/ns/net";
  j["linux"]["namespaces"][0]["path"] = "/proc/1/ns/pid";
  ContainerPlan p = plan_of(j);
  EXPECT_FALSE(p.namespaces.clone_flags & CLONE_NEWNET);
  ASSERT_EQ(p.namespaces.joins.size(), 1u);
  EXPECT_EQ(p.namespaces.joins[0].nstype, CLONE_NEWNET);
  EXPECT_EQ(p.namespaces.pid_path, "/proc/1/ns/pid");
  EXPECT_TRUE(p.namespaces.is_private(CLONE_NEWPID));
}

TEST(NamespacePlan, Refusals) {
  json j = base();
  j["linux"]["namespaces"].push_back({{"type", "user"}});
  EXPECT_EQ(plan_error(j), "linux.namespaces[6]: user namespaces are not supported");
  j = base();
  j["linux"]["namespaces"].erase(4);
  EXPECT_EQ(plan_error(j),
            "linux.namespaces: a mount namespace is required (the rootfs is set up in it)");
  j = base();
  j["linux"]["namespaces"][4]["path"] = "/proc/1/ns/mnt";
  EXPECT_NE(plan_error(j).find("linux.namespaces[4].path: the container needs a mount namespace"),
            std::string::npos);
}

TEST(MountOptions, FlagsPropagationAndData) {
  MountOptions o =
      parse_mount_options({"nosuid", "nodev", "ro", "rw", "noexec", "exec", "strictatime", "rslave",
                           "private", "mode=755", "size=64k", "x-systemd.automount", "defaults"},
                          "m");
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOSUID | MS_NODEV | MS_STRICTATIME));
  EXPECT_EQ(o.propagation, (std::vector<unsigned long>{MS_SLAVE | MS_REC, MS_PRIVATE}));
  EXPECT_EQ(o.data, "mode=755,size=64k");
  EXPECT_FALSE(o.bind);
  MountOptions b = parse_mount_options({"rbind", "ro"}, "m");
  EXPECT_TRUE(b.bind && b.recursive);
  EXPECT_EQ(b.flags, static_cast<unsigned long>(MS_RDONLY));
  EXPECT_EQ(error_text([] {
              parse_mount_options({"ro", "idmap"}, "mounts[2].options");
            }),
            "mounts[2].options[1]: mount option \"idmap\" is not supported");
  EXPECT_EQ(error_text([] { parse_mount_options({"a,b"}, "m"); }),
            "m[0]: \"a,b\" is not a single mount option");
}

TEST(RootPath, NormalisesInsideTheRoot) {
  RootPath p = root_path("/dev//pts/", "x");
  EXPECT_EQ(p.path, "dev/pts");
  EXPECT_EQ(p.prefixes, (std::vector<std::string>{"dev", "dev/pts"}));
  EXPECT_EQ(p.names, (std::vector<std::string>{"dev", "pts"}));
  EXPECT_EQ(root_path("/../../etc/./x/../y", "x").path, "etc/y");
  EXPECT_EQ(error_text([] { root_path("/a/..", "mounts[0].destination"); }),
            "mounts[0].destination: \"/a/..\" names the container's root");
}

TEST(MountPlan, SpecMountsDevicesAndPaths) {
  json j = base();
  j["mounts"].push_back({{"destination", "/data"},
                         {"type", "bind"},
                         {"source", "vol"},
                         {"options", {"rbind", "ro", "nosuid", "rshared"}}});
  j["linux"]["devices"] = {
      {{"path", "/dev/fuse"},
       {"type", "c"},
       {"major", 10},
       {"minor", 229},
       {"fileMode", 0600},
       {"uid", 5},
       {"gid", 6}},
      {{"path", "/dev/null"}, {"type", "c"}, {"major", 1}, {"minor", 3}, {"fileMode", 0640}}};
  MountPlan m = plan_of(j).mounts;
  EXPECT_EQ(m.rootfs, "/bundle/rootfs");
  EXPECT_EQ(m.root, "/bundle/rootfs");
  EXPECT_TRUE(m.readonly);
  EXPECT_FALSE(m.overlay);
  EXPECT_EQ(m.root_propagation, static_cast<unsigned long>(MS_SLAVE | MS_REC));
  ASSERT_EQ(m.mounts.size(), 5u);
  EXPECT_EQ(m.mounts[0].type, "proc");
  EXPECT_EQ(m.mounts[2].options.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
  EXPECT_EQ(m.mounts[3].type, "cgroup2");  // the v2 hierarchy under a v1 name
  EXPECT_EQ(m.mounts[3].options.flags,
            static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY));
  const MountStep& bind = m.mounts[4];
  EXPECT_TRUE(bind.options.bind && bind.options.recursive && bind.remount);
  EXPECT_EQ(bind.source, "/bundle/vol");
  EXPECT_EQ(bind.target.path, "data");
  EXPECT_EQ(bind.options.propagation, std::vector<unsigned long>{MS_SHARED | MS_REC});
  // /dev is a tmpfs: the default devices, the spec's replacing /dev/null.
  EXPECT_TRUE(m.dev_tmpfs);
  std::vector<std::string> paths;
  for (const DeviceNode& d : m.devices) paths.push_back(d.path.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"dev/null", "dev/zero", "dev/full", "dev/random",
                                             "dev/urandom", "dev/tty", "dev/fuse"}));
  EXPECT_EQ(m.devices[0].mode, mode_t(S_IFCHR | 0640));
  EXPECT_EQ(m.devices[6].dev, makedev(10, 229));
  EXPECT_EQ(m.devices[6].uid, 5u);
  EXPECT_EQ(m.masked, (std::vector<std::string>{"/proc/kcore", "/sys/firmware"}));
  EXPECT_EQ(m.readonly_paths, std::vector<std::string>{"/proc/sys"});
}

TEST(MountPlan, OverlayWhenAsked) {
  json j = base();
  // root.readonly too: the mount points go to the upper layer, not to the
  // rootfs the host shares read-only.
  MountPlan ro = plan_of(j, true).mounts;
  EXPECT_TRUE(ro.overlay);
  EXPECT_TRUE(ro.readonly);
  EXPECT_EQ(ro.root, "/state/c1/rootfs");
  j["root"]["readonly"] = false;
  MountPlan m = plan_of(j, true).mounts;
  EXPECT_TRUE(m.overlay);
  EXPECT_EQ(m.root, "/state/c1/rootfs");
  EXPECT_EQ(m.overlay_data,
            "lowerdir=/bundle/rootfs,upperdir=/state/c1/rw/upper,workdir=/state/c1/rw/work");
  j["root"]["path"] = "/odd,path";
  EXPECT_EQ(error_text([&] { plan_of(j, true); }),
            "root.path: an overlay cannot use the path /odd,path (it contains ',', ':' or '\\')");
  // but fine without an overlay
  EXPECT_EQ(plan_of(j).mounts.rootfs, "/odd,path");
}

TEST(MountPlan, Errors) {
  json j = base();
  j["mounts"].push_back({{"destination", "/x"}, {"type", "bind"}});
  EXPECT_EQ(plan_error(j), "mounts[4].source: a bind mount needs a source");
  j = base();
  j["mounts"].push_back({{"destination", "/x"}, {"source", "x"}});
  EXPECT_EQ(plan_error(j), "mounts[4].type: a mount that is not a bind needs a type");
  j = base();
  j["mounts"].push_back({{"destination", "/"}, {"type", "tmpfs"}});
  EXPECT_EQ(plan_error(j), "mounts[4].destination: \"/\" names the container's root");
  j = base();
  j["linux"]["devices"] = {
      {{"path", "/dev/x"}, {"type", "c"}, {"major", 1}, {"minor", 1}, {"fileMode", 020666}}};
  EXPECT_EQ(plan_error(j), "linux.devices[0].fileMode: 20666 is not a permission mode");
}

TEST(CapabilityPlan, Sets) {
  json j = base();
  j["process"]["capabilities"]["inheritable"] = {"CAP_KILL"};
  j["process"]["capabilities"]["ambient"] = {"CAP_KILL", "CAP_CHOWN"};
  CapabilityPlan c = plan_of(j).process.capabilities;
  const uint64_t kill = 1 << 5, chown = 1 << 0;
  EXPECT_EQ(c.bounding, kill | chown);
  EXPECT_EQ(c.effective, kill);
  EXPECT_EQ(c.permitted, kill | chown);
  EXPECT_EQ(c.inheritable, kill);
  EXPECT_EQ(c.ambient, kill);  // CAP_CHOWN is not inheritable: dropped, as runc does
  EXPECT_GE(c.last_cap, 37);
  ASSERT_TRUE(c.state);
}

TEST(CapabilityPlan, Errors) {
  json j = base();
  j["process"]["capabilities"]["bounding"].push_back("CAP_FLY");
  EXPECT_EQ(plan_error(j), "process.capabilities.bounding[2]: unknown capability \"CAP_FLY\"");
  j = base();
  j["process"]["capabilities"]["effective"].push_back("CAP_SYS_ADMIN");
  EXPECT_EQ(plan_error(j), "process.capabilities.effective: cap_sys_admin is not permitted");
}

json seccomp_spec() {
  return {{"defaultAction", "SCMP_ACT_ERRNO"},
          {"defaultErrnoRet", 1},
          {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}},
          {"flags", {"SECCOMP_FILTER_FLAG_LOG"}},
          {"syscalls",
           {{{"names", {"read", "write", "no_such_call"}}, {"action", "SCMP_ACT_ALLOW"}},
            {{"names", {"personality"}},
             {"action", "SCMP_ACT_ALLOW"},
             {"args",
              {{{"index", 0}, {"value", 0}, {"op", "SCMP_CMP_EQ"}},
               {{"index", 0}, {"value", 8}, {"op", "SCMP_CMP_EQ"}}}}},
            {{"names", {"clone"}},
             {"action", "SCMP_ACT_ALLOW"},
             {"args",
              {{{"index", 0}, {"value", 2114060288}, {"valueTwo", 0}, {"op", "SCMP_CMP_MASKED_EQ"}},
               {{"index", 1}, {"value", 0}, {"op", "SCMP_CMP_NE"}}}}},
            {{"names", {"mkdir"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 1}},
            {{"names", {"kill"}}, {"action", "SCMP_ACT_KILL_PROCESS"}}}}};
}

TEST(SeccompPlan, Rules) {
  json j = base();
  j["linux"]["seccomp"] = seccomp_spec();
  ContainerPlan p = plan_of(j);
  ASSERT_TRUE(p.seccomp);
  const SeccompPlan& s = *p.seccomp;
  EXPECT_EQ(s.default_action, SCMP_ACT_ERRNO(1));
  EXPECT_EQ(s.architectures, (std::vector<uint32_t>{SCMP_ARCH_X86_64, SCMP_ARCH_X86}));
  EXPECT_EQ(s.flags, 2u);  // SECCOMP_FILTER_FLAG_LOG
  EXPECT_EQ(s.unknown, std::vector<std::string>{"no_such_call"});
  std::vector<std::string> names;
  for (const SeccompRule& r : s.rules) names.push_back(r.syscall);
  // mkdir's rule equals the default action: nothing to add.
  EXPECT_EQ(names, (std::vector<std::string>{"read", "write", "personality", "personality", "clone",
                                             "kill"}));
  EXPECT_EQ(s.rules[0].nr, seccomp_syscall_resolve_name("read"));
  EXPECT_EQ(s.rules[2].args.size(), 1u);  // the same argument twice: one rule each (OR)
  EXPECT_EQ(s.rules[3].args[0].datum_a, 8u);
  ASSERT_EQ(s.rules[4].args.size(), 2u);  // different arguments: one rule (AND)
  EXPECT_EQ(s.rules[4].args[0].op, SCMP_CMP_MASKED_EQ);
  EXPECT_EQ(s.rules[5].action, SCMP_ACT_KILL_PROCESS);
  EXPECT_GT(s.program.size(), 10u);
  EXPECT_EQ(p.process.seccomp.get(), p.seccomp.get());
}

TEST(SeccompPlan, Errors) {
  json j = base();
  j["linux"]["seccomp"] = seccomp_spec();
  j["linux"]["seccomp"]["syscalls"][1]["args"][0]["index"] = 6;
  EXPECT_EQ(plan_error(j), "linux.seccomp.syscalls[1].args[0].index: 6 is not an argument (0..5)");
  j = base();
  j["linux"]["seccomp"] = seccomp_spec();
  j["linux"]["seccomp"]["syscalls"][0]["errnoRet"] = 5;
  EXPECT_EQ(plan_error(j),
            "linux.seccomp.syscalls[0].action: errnoRet only applies to SCMP_ACT_ERRNO and "
            "SCMP_ACT_TRACE, not SCMP_ACT_ALLOW");
  j = base();
  j["linux"]["seccomp"] = seccomp_spec();
  j["linux"]["seccomp"]["syscalls"][0]["action"] = "SCMP_ACT_NOTIFY";
  EXPECT_EQ(plan_error(j),
            "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY (a seccomp agent) is not supported");
  j = base();
  j["linux"]["seccomp"] = seccomp_spec();
  j["linux"]["seccomp"]["architectures"] = {"SCMP_ARCH_VAX"};
  EXPECT_EQ(plan_error(j),
            "linux.seccomp.architectures[0]: unknown architecture \"SCMP_ARCH_VAX\"");
  j = base();
  j["linux"]["seccomp"] = seccomp_spec();
  j["linux"]["seccomp"]["flags"] = {"SECCOMP_FILTER_FLAG_NEW_LISTENER"};
  EXPECT_EQ(plan_error(j),
            "linux.seccomp.flags[0]: unsupported flag \"SECCOMP_FILTER_FLAG_NEW_LISTENER\"");
}

TEST(ProcessPlan, UserRlimitsEnvAndProgramSearch) {
  json j = base();
  j["process"]["user"] = {
      {"uid", 1000}, {"gid", 100}, {"additionalGids", {10, 20}}, {"umask", 077}};
  j["process"]["oomScoreAdj"] = -500;
  ProcessPlan p = plan_of(j).process;
  EXPECT_EQ(p.user.uid, 1000u);
  EXPECT_EQ(p.user.gid, 100u);
  EXPECT_EQ(p.user.groups, (std::vector<gid_t>{10, 20}));
  EXPECT_EQ(p.user.umask, mode_t(077));
  EXPECT_TRUE(p.user.no_new_privileges);
  ASSERT_EQ(p.rlimits.size(), 1u);
  EXPECT_EQ(p.rlimits[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ(p.rlimits[0].limit.rlim_cur, 512u);
  EXPECT_EQ(p.rlimits[0].limit.rlim_max, 1024u);
  // The process's PATH, not the agent's.
  EXPECT_EQ(p.candidates, (std::vector<std::string>{"/usr/bin/sh", "/bin/sh"}));
  EXPECT_EQ(p.oom_score_adj, "-500");
  j["process"]["args"] = {"./run"};
  EXPECT_EQ(plan_of(j).process.candidates, std::vector<std::string>{"./run"});
  j["process"]["env"] = json::array();
  j["process"]["args"] = {"sh"};
  EXPECT_EQ(plan_of(j).process.candidates.size(), 6u);  // the default PATH
}

TEST(ProcessPlan, Errors) {
  json j = base();
  j["process"]["env"].push_back("NOEQUALS");
  EXPECT_EQ(plan_error(j), "process.env[2]: \"NOEQUALS\" is not KEY=VALUE");
  j = base();
  j["process"]["rlimits"] = {{{"type", "RLIMIT_BOGUS"}, {"hard", 1}, {"soft", 1}}};
  EXPECT_EQ(plan_error(j), "process.rlimits[0].type: unknown resource \"RLIMIT_BOGUS\"");
  j = base();
  j["process"]["rlimits"][0]["soft"] = 2048;
  EXPECT_EQ(plan_error(j), "process.rlimits[0]: soft limit 2048 is above the hard limit 1024");
  j = base();
  j["process"]["oomScoreAdj"] = 2000;
  EXPECT_EQ(plan_error(j), "process.oomScoreAdj: 2000 is outside -1000..1000");
  j = base();
  j["linux"]["personality"] = {{"domain", "LINUX32"}};
  EXPECT_EQ(plan_error(j), "linux.personality: only LINUX is supported");
}

TEST(UtsPlan, HostnameAndSysctls) {
  json j = base();
  j["domainname"] = "example";
  j["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}, {"kernel.shmmax", "4096"}};
  UtsPlan u = plan_of(j).uts;
  EXPECT_EQ(u.hostname, "box");
  EXPECT_EQ(u.domainname, "example");
  ASSERT_EQ(u.sysctls.size(), 2u);
  EXPECT_EQ(u.sysctls[0].path, "/proc/sys/kernel/shmmax");
  EXPECT_EQ(u.sysctls[1].path, "/proc/sys/net/ipv4/ip_forward");

  j = base();
  j["linux"]["namespaces"].erase(3);  // uts
  EXPECT_EQ(plan_error(j), "hostname: setting it needs a UTS namespace of the container's own");
  j = base();
  j["linux"]["namespaces"].erase(1);  // network
  j["linux"]["sysctl"] = {{"net.core.somaxconn", "10"}};
  EXPECT_EQ(
      plan_error(j),
      "linux.sysctl[\"net.core.somaxconn\"]: needs a network namespace of the container's own");
  j = base();
  j["linux"]["sysctl"] = {{"vm.swappiness", "10"}};
  EXPECT_EQ(plan_error(j), "linux.sysctl[\"vm.swappiness\"]: no namespace isolates this sysctl");
}

TEST(Describe, NamesTheStepWithThePlansNames) {
  ContainerPlan p = plan_of(base());
  EXPECT_EQ(describe(&p, p.process, {Step::Mount, 2, EACCES}),
            "mounting devpts devpts on /dev/pts (mounts[2]): Permission denied");
  EXPECT_EQ(describe(&p, p.process, {Step::Cwd, -1, ENOENT}),
            "changing to the working directory /: No such file or directory");
  EXPECT_EQ(describe(nullptr, p.process, {Step::Exec, -1, ENOENT}),
            "executing sh: No such file or directory");
  EXPECT_EQ(describe(&p, p.process, {Step::MaskedPath, 1, EPERM}),
            "masking /sys/firmware: Operation not permitted");
  // An index out of range (a confused child) still gives a message.
  EXPECT_EQ(describe(&p, p.process, {Step::Mount, 99, EIO}), "mounting: Input/output error");
}

}  // namespace
}  // namespace vmrt::agent
