// The config.json model: a full runc-style spec, round-tripping, and
// malformed inputs that must fail with messages naming the field.
#include "common/oci/spec.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/error.h"
#include "common/tempdir.h"
#include "tests/support/error_text.h"

namespace vmrt::oci {
namespace {

using nlohmann::json;
using test::error_text;

const std::filesystem::path kData = VMRT_TEST_DATA_DIR;

json fixture() {
  std::ifstream in(kData / "config.json");
  return json::parse(in);
}

// The message parse_spec gives for `j`, or "" when it accepts it.
std::string parse_error(const json& j, Purpose purpose = Purpose::Create) {
  return error_text([&] { parse_spec(j, purpose); });
}

// The fixture with one change made by `edit`, parsed.
template <typename Edit>
std::string error_after(Edit&& edit) {
  json j = fixture();
  edit(j);
  return parse_error(j);
}

TEST(OciSpec, ReadsAFullRuncStyleSpec) {
  Spec s = load_spec(kData);
  EXPECT_EQ(s.oci_version, "1.0.2-dev");
  ASSERT_TRUE(s.process);
  const Process& p = *s.process;
  EXPECT_TRUE(p.terminal);
  EXPECT_EQ(p.console_size->width, 80u);
  EXPECT_EQ(p.args, (Strings{"sh", "-c", "echo hello"}));
  EXPECT_EQ(p.env.size(), 2u);
  EXPECT_EQ(p.user.uid, 1000u);
  EXPECT_EQ(*p.user.umask, 18u);
  EXPECT_EQ(p.user.additional_gids, (std::vector<uint32_t>{10, 20}));
  EXPECT_EQ(p.capabilities.bounding.size(), 3u);
  EXPECT_TRUE(p.capabilities.inheritable.empty());
  ASSERT_EQ(p.rlimits.size(), 1u);
  EXPECT_EQ(p.rlimits[0].hard, 1024u);
  EXPECT_TRUE(p.no_new_privileges);
  EXPECT_EQ(*p.oom_score_adj, -500);
  EXPECT_EQ(p.apparmor_profile, "vmrt-default");
  EXPECT_EQ(s.root.path, "rootfs");
  EXPECT_TRUE(s.root.readonly);
  EXPECT_EQ(s.domainname, "example.org");
  ASSERT_EQ(s.mounts.size(), 8u);
  EXPECT_EQ(s.mounts[1].options.size(), 4u);
  EXPECT_EQ(s.mounts[7].uid_mappings[0].host_id, 100000u);
  EXPECT_EQ(s.hooks.prestart[0].env, (Strings{"key1=value1"}));
  EXPECT_EQ(s.hooks.start_container.size(), 1u);
  EXPECT_EQ(*s.hooks.poststop[0].timeout, 5);
  EXPECT_EQ(s.annotations.at("io.kubernetes.cri.container-type"), "container");

  const Linux& l = s.linux;
  EXPECT_EQ(l.namespaces.size(), 8u);
  EXPECT_EQ(l.namespaces[1].path, "/var/run/netns/pod");
  EXPECT_EQ(l.gid_mappings[0].size, 65536u);
  EXPECT_EQ(l.devices[0].minor, 229);
  EXPECT_EQ(*l.devices[0].file_mode, 0666u);
  ASSERT_TRUE(l.resources);
  const Resources& r = *l.resources;
  EXPECT_FALSE(r.devices[0].allow);
  EXPECT_FALSE(r.devices[0].major) << "absent major means all majors";
  EXPECT_EQ(*r.devices[1].major, 10);
  EXPECT_EQ(*r.memory->limit, 67108864);
  EXPECT_EQ(*r.memory->swap, -1);
  EXPECT_EQ(*r.memory->swappiness, 0u);
  EXPECT_FALSE(r.memory->use_hierarchy);
  EXPECT_EQ(*r.cpu->quota, 50000);
  EXPECT_EQ(r.cpu->cpus, "0-1");
  EXPECT_EQ(r.pids->limit, 64);
  EXPECT_EQ(*r.block_io->weight, 500);
  EXPECT_EQ(r.block_io->throttle_read_bps_device[0].rate, 104857600u);
  EXPECT_EQ(r.block_io->throttle_write_iops_device[0].minor, 16);
  EXPECT_EQ(r.hugepage_limits[0].page_size, "2MB");
  EXPECT_EQ(r.network->priorities[0].name, "eth0");
  EXPECT_EQ(r.unified.at("io.weight"), "default 100");
  EXPECT_EQ(l.sysctl.at("net.ipv4.ip_forward"), "1");
  ASSERT_TRUE(l.seccomp);
  EXPECT_EQ(l.seccomp->default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(*l.seccomp->default_errno_ret, 1u);
  EXPECT_EQ(l.seccomp->syscalls[1].args[1].value_two, 8u);
  EXPECT_EQ(l.seccomp->syscalls[1].args[1].op, "SCMP_CMP_MASKED_EQ");
  EXPECT_EQ(*l.seccomp->syscalls[2].errno_ret, 38u);
  EXPECT_EQ(l.rootfs_propagation, "rprivate");
  EXPECT_EQ(l.masked_paths.size(), 10u);
  EXPECT_EQ(l.personality->domain, "LINUX");
}

TEST(OciSpec, RoundTripsEverythingItModels) {
  Spec s = load_spec(kData);
  // What to_json leaves out: the unknown field, and empty lists, which read
  // back the same as absent ones.
  json expected = fixture();
  expected.erase("someFutureField");
  expected["process"]["capabilities"].erase("inheritable");
  expected["linux"]["personality"].erase("flags");
  EXPECT_EQ(to_json(s), expected) << "diff: " << json::diff(to_json(s), expected).dump(1);
  EXPECT_EQ(to_json(parse_spec(to_json(s))), to_json(s));
}

TEST(OciSpec, AMinimalSpecGetsDefaults) {
  json j = {{"ociVersion", "1.1.0"},
            {"root", {{"path", "rootfs"}}},
            {"process", {{"cwd", "/"}, {"args", {"true"}}, {"user", {{"uid", 0}, {"gid", 0}}}}}};
  Spec s = parse_spec(j);
  EXPECT_FALSE(s.process->terminal);
  EXPECT_FALSE(s.linux.resources);
  EXPECT_TRUE(s.linux.namespaces.empty());
  EXPECT_EQ(to_json(s), j);
  Spec inspected =
      parse_spec({{"ociVersion", "1.0.0"}, {"root", {{"path", "r"}}}}, Purpose::Inspect);
  EXPECT_FALSE(inspected.process) << "only creating a container needs a process";
}

TEST(OciSpec, MissingRequiredFieldsAreNamed) {
  EXPECT_EQ(error_after([](json& j) { j.erase("ociVersion"); }),
            "config.json: missing required field \"ociVersion\"");
  EXPECT_EQ(error_after([](json& j) { j.erase("process"); }),
            "config.json: missing required field \"process\"");
  EXPECT_EQ(error_after([](json& j) { j.erase("root"); }),
            "config.json: missing required field \"root\"");
  EXPECT_EQ(error_after([](json& j) { j["root"] = json::object(); }),
            "config.json: missing required field \"root.path\"");
  EXPECT_EQ(error_after([](json& j) { j["process"].erase("cwd"); }),
            "config.json: missing required field \"process.cwd\"");
  EXPECT_EQ(error_after([](json& j) { j["process"]["user"].erase("uid"); }),
            "config.json: missing required field \"process.user.uid\"");
  EXPECT_EQ(error_after([](json& j) { j["mounts"][3].erase("destination"); }),
            "config.json: missing required field \"mounts[3].destination\"");
  EXPECT_EQ(error_after([](json& j) { j["linux"]["seccomp"].erase("defaultAction"); }),
            "config.json: missing required field \"linux.seccomp.defaultAction\"");
  EXPECT_EQ(error_after([](json& j) { j["linux"]["resources"]["devices"][1].erase("allow"); }),
            "config.json: missing required field \"linux.resources.devices[1].allow\"");
  EXPECT_EQ(error_after([](json& j) { j["ociVersion"] = nullptr; }),
            "config.json: missing required field \"ociVersion\"")
      << "null counts as absent";
}

TEST(OciSpec, WrongTypesNameTheFieldAndTheTypes) {
  EXPECT_EQ(error_after([](json& j) { j["process"]["args"] = 5; }),
            "config.json: process.args: expected an array of strings, got number");
  EXPECT_EQ(error_after([](json& j) {
              j["process"]["args"] = {"sh", 1};
            }),
            "config.json: process.args[1]: expected a string, got number");
  EXPECT_EQ(error_after([](json& j) { j["root"] = "rootfs"; }),
            "config.json: root: expected an object, got string");
  EXPECT_EQ(error_after([](json& j) { j["process"]["user"]["uid"] = -1; }),
            "config.json: process.user.uid: -1 is out of range (0 to 4294967295)");
  EXPECT_EQ(error_after([](json& j) { j["process"]["user"]["gid"] = 1.5; }),
            "config.json: process.user.gid: expected an integer, got number");
  EXPECT_EQ(error_after([](json& j) { j["process"]["terminal"] = "yes"; }),
            "config.json: process.terminal: expected a boolean, got string");
  EXPECT_EQ(error_after([](json& j) { j["mounts"][2]["options"] = "nosuid"; }),
            "config.json: mounts[2].options: expected an array of strings, got string");
  EXPECT_EQ(error_after([](json& j) { j["mounts"][0] = "/proc"; }),
            "config.json: mounts[0]: expected an object, got string");
  EXPECT_EQ(error_after([](json& j) { j["annotations"]["com.example.key"] = 1; }),
            "config.json: annotations[\"com.example.key\"]: expected a string, got number");
  EXPECT_EQ(error_after([](json& j) { j["linux"]["sysctl"] = {"a=b"}; }),
            "config.json: linux.sysctl: expected an object of strings, got array");
  EXPECT_EQ(error_after([](json& j) { j["linux"]["resources"]["memory"]["limit"] = "64M"; }),
            "config.json: linux.resources.memory.limit: expected an integer, got string");
  EXPECT_EQ(error_after([](json& j) { j["linux"]["resources"]["blockIO"]["weight"] = 70000; }),
            "config.json: linux.resources.blockIO.weight: 70000 is out of range (0 to 65535)");
  EXPECT_EQ(error_after([](json& j) {
              j["linux"]["namespaces"] = {{"type", "pid"}};
            }),
            "config.json: linux.namespaces: expected an array of objects, got object");
  EXPECT_EQ(error_after([](json& j) { j["process"]["user"]["additionalGids"] = {"wheel"}; }),
            "config.json: process.user.additionalGids[0]: expected an integer, got string");
  EXPECT_EQ(parse_error(json::array()), "config.json: top level: expected an object, got array");
}

TEST(OciSpec, InvalidValuesAreRefused) {
  EXPECT_EQ(error_after([](json& j) { j["process"]["cwd"] = "relative/dir"; }),
            "config.json: process.cwd: must be an absolute path, got \"relative/dir\"");
  EXPECT_EQ(error_after([](json& j) { j["process"]["args"] = json::array(); }),
            "config.json: process.args: must name the program to run");
  EXPECT_EQ(error_after([](json& j) {
              j["linux"]["namespaces"].push_back({{"type", "pid"}});
            }),
            "config.json: linux.namespaces[8].type: \"pid\" is listed twice");
  EXPECT_EQ(error_after([](json& j) { j["linux"]["namespaces"][0]["type"] = "bogus"; }),
            "config.json: linux.namespaces[0].type: unknown namespace type \"bogus\"");
  EXPECT_EQ(error_after([](json& j) { j["linux"]["namespaces"][1]["path"] = "netns"; }),
            "config.json: linux.namespaces[1].path: must be an absolute path, got \"netns\"");
  EXPECT_EQ(error_after([](json& j) { j["mounts"][0]["destination"] = "proc"; }),
            "config.json: mounts[0].destination: must be an absolute path, got \"proc\"");
  EXPECT_EQ(error_after([](json& j) { j["process"]["rlimits"][0]["type"] = "NOFILE"; }),
            "config.json: process.rlimits[0].type: \"NOFILE\" is not a RLIMIT_ name");
  EXPECT_EQ(
      error_after([](json& j) {
        j["process"]["rlimits"].push_back({{"type", "RLIMIT_NOFILE"}, {"hard", 1}, {"soft", 1}});
      }),
      "config.json: process.rlimits[1].type: \"RLIMIT_NOFILE\" is listed twice");
  EXPECT_EQ(error_after([](json& j) { j["process"]["capabilities"]["ambient"][2] = "KILL"; }),
            "config.json: process.capabilities.ambient[2]: \"KILL\" is not a CAP_ name");
  EXPECT_EQ(error_after([](json& j) { j["ociVersion"] = "2.0.0"; }),
            "config.json: ociVersion: unsupported version \"2.0.0\"");
  EXPECT_EQ(error_after([](json& j) { j["root"]["path"] = ""; }),
            "config.json: root.path: must not be empty");
  EXPECT_EQ(error_after([](json& j) { j["hooks"]["prestart"][0]["path"] = "fix-mounts"; }),
            "config.json: hooks.prestart[0].path: must be an absolute path, got \"fix-mounts\"");
  EXPECT_EQ(error_after([](json& j) { j["hooks"]["poststop"][0]["timeout"] = 0; }),
            "config.json: hooks.poststop[0].timeout: must be greater than zero");
  EXPECT_EQ(error_after([](json& j) { j["linux"]["devices"][0]["type"] = "x"; }),
            "config.json: linux.devices[0].type: unknown device type \"x\"");
  EXPECT_EQ(error_after([](json& j) { j["linux"]["resources"]["devices"][1]["access"] = "rwx"; }),
            "config.json: linux.resources.devices[1].access: \"rwx\" is not a set of r, w, m");
  EXPECT_EQ(error_after([](json& j) { j["linux"]["seccomp"]["defaultAction"] = "ALLOW"; }),
            "config.json: linux.seccomp.defaultAction: unknown seccomp action \"ALLOW\"");
  EXPECT_EQ(
      error_after([](json& j) { j["linux"]["seccomp"]["syscalls"][1]["args"][0]["op"] = "=="; }),
      "config.json: linux.seccomp.syscalls[1].args[0].op: unknown seccomp operator \"==\"");
  EXPECT_EQ(
      error_after([](json& j) { j["linux"]["seccomp"]["syscalls"][0]["names"] = json::array(); }),
      "config.json: linux.seccomp.syscalls[0].names: must name at least one system call");
  EXPECT_EQ(error_after([](json& j) { j["linux"]["rootfsPropagation"] = "private-ish"; }),
            "config.json: linux.rootfsPropagation: unknown propagation \"private-ish\"");
  EXPECT_EQ(error_after([](json& j) { j["linux"]["personality"]["domain"] = "BSD"; }),
            "config.json: linux.personality.domain: unknown personality \"BSD\"");
}

TEST(OciSpec, BundleFileErrorsNameTheFile) {
  EXPECT_EQ(error_text([] { load_spec("/nonexistent-bundle"); }),
            "cannot read /nonexistent-bundle/config.json: No such file or directory");
  TempDir bundle("vmrt-oci-test");
  std::string file = (bundle.path() / "config.json").string();
  std::ofstream(file) << "{\"ociVersion\": \"1.0.0\",\n \"root\": {";
  std::string err = error_text([&] { load_spec(bundle.path()); });
  EXPECT_EQ(err.rfind(file + ": malformed JSON: parse error at line 2, column 11: ", 0), 0u) << err;
  // nlohmann reports a number beyond a double as out_of_range, not as a
  // parse_error; it must still be the project's error.
  std::ofstream(file) << R"({"ociVersion": 1e999})";
  EXPECT_EQ(error_text([&] { load_spec(bundle.path()); }),
            file + ": malformed JSON: number overflow parsing '1e999'");
  std::ofstream(file) << R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"}})";
  EXPECT_EQ(error_text([&] { load_spec(bundle.path()); }),
            file + ": missing required field \"process\"");
  EXPECT_EQ(load_spec(bundle.path(), Purpose::Inspect).root.path, "rootfs");
}

}  // namespace
}  // namespace vmrt::oci
