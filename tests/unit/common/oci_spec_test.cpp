// The config.json model: a full runc-style spec, round-tripping, and
// malformed inputs that must fail with messages naming the field.
#include <gtest/gtest.h>

#include <fstream>

#include "common/error.h"
#include "common/oci/spec.h"
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

std::string parse_error(json j, Purpose purpose = Purpose::Create) {
  return error_text([&] { parse_spec(j, purpose); });
}

TEST(OciSpec, ReadsAFullRuncStyleSpec) {
  Spec s = load_spec(kData);
  EXPECT_EQ(s.oci_version, "1.0.2-dev");
  EXPECT_EQ(s.process.args, (std::vector<std::string>{"sh", "-c", "echo hello"}));
  EXPECT_EQ(s.process.user.uid, 1000u);
  EXPECT_EQ(*s.process.user.umask, 18u);
  EXPECT_EQ(s.process.user.additional_gids.size(), 2u);
  EXPECT_EQ(s.process.capabilities.bounding.size(), 3u);
  EXPECT_TRUE(s.process.capabilities.inheritable.empty());
  ASSERT_EQ(s.process.rlimits.size(), 1u);
  EXPECT_EQ(s.process.rlimits[0].hard, 1024u);
  EXPECT_TRUE(s.process.no_new_privileges);
  EXPECT_EQ(*s.process.oom_score_adj, 100);
  EXPECT_EQ(s.root.path, "rootfs");
  EXPECT_TRUE(s.root.readonly);
  ASSERT_EQ(s.mounts.size(), 4u);
  EXPECT_EQ(s.mounts[1].options.size(), 4u);
  EXPECT_EQ(s.hooks.poststop.size(), 1u);
  EXPECT_EQ(*s.hooks.poststop[0].timeout, 5);
  EXPECT_EQ(s.annotations.at("io.kubernetes.cri.container-type"), "container");
  EXPECT_EQ(s.linux.namespaces.size(), 6u);
  EXPECT_EQ(s.linux.uid_mappings[0].host_id, 100000u);
  EXPECT_EQ(s.linux.resources["memory"]["limit"], 67108864);
  EXPECT_EQ(s.linux.sysctl.at("net.ipv4.ip_forward"), "1");
  EXPECT_EQ(s.linux.seccomp["defaultAction"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(s.linux.masked_paths.size(), 3u);
}

TEST(OciSpec, RoundTripsThroughJson) {
  Spec s = load_spec(kData);
  Spec again = parse_spec(to_json(s));
  EXPECT_EQ(to_json(again), to_json(s));
  EXPECT_EQ(again.process.env, s.process.env);
  EXPECT_EQ(again.linux.uid_mappings.size(), 1u);
}

TEST(OciSpec, MissingRequiredFieldsAreNamed) {
  json j = fixture();
  j.erase("ociVersion");
  EXPECT_NE(parse_error(j).find("missing required field \"ociVersion\""), std::string::npos);
  j = fixture();
  j.erase("process");
  EXPECT_NE(parse_error(j).find("missing required field \"process\""), std::string::npos);
  EXPECT_EQ(parse_error(j, Purpose::Inspect), "") << "only creating a container needs a process";
  j = fixture();
  j.erase("root");
  EXPECT_NE(parse_error(j).find("missing required field \"root\""), std::string::npos);
  j = fixture();
  j["process"].erase("cwd");
  EXPECT_NE(parse_error(j).find("\"process.cwd\""), std::string::npos);
}

TEST(OciSpec, WrongTypesNameTheFieldAndTheTypes) {
  json j = fixture();
  j["process"]["args"] = 5;
  EXPECT_NE(parse_error(j).find("process.args: expected an array of strings, got number"),
            std::string::npos);
  j = fixture();
  j["process"]["args"] = json::array({"sh", 1});
  EXPECT_NE(parse_error(j).find("process.args"), std::string::npos);
  j = fixture();
  j["root"] = "rootfs";
  EXPECT_NE(parse_error(j).find("root: expected an object, got string"), std::string::npos);
  j = fixture();
  j["process"]["user"]["uid"] = -1;
  EXPECT_NE(parse_error(j).find("process.user.uid"), std::string::npos);
  j = fixture();
  j["process"]["terminal"] = "yes";
  EXPECT_NE(parse_error(j).find("process.terminal: expected a boolean"), std::string::npos);
  j = fixture();
  j["mounts"][2]["options"] = "nosuid";
  EXPECT_NE(parse_error(j).find("mounts[2].options"), std::string::npos);
  EXPECT_NE(parse_error(json::array()).find("expected an object"), std::string::npos);
}

TEST(OciSpec, InvalidValuesAreRefused) {
  json j = fixture();
  j["process"]["cwd"] = "relative/dir";
  EXPECT_NE(parse_error(j).find("absolute path"), std::string::npos);
  j = fixture();
  j["process"]["args"] = json::array();
  EXPECT_NE(parse_error(j).find("process.args"), std::string::npos);
  j = fixture();
  j["linux"]["namespaces"].push_back({{"type", "pid"}});
  EXPECT_NE(parse_error(j).find("listed twice"), std::string::npos);
  j = fixture();
  j["linux"]["namespaces"][0]["type"] = "bogus";
  EXPECT_NE(parse_error(j).find("unknown namespace type \"bogus\""), std::string::npos);
  j = fixture();
  j["mounts"][0]["destination"] = "proc";
  EXPECT_NE(parse_error(j).find("mounts[0].destination: must be an absolute path"),
            std::string::npos);
  j = fixture();
  j["process"]["rlimits"][0]["type"] = "NOFILE";
  EXPECT_NE(parse_error(j).find("not an RLIMIT_ name"), std::string::npos);
  j = fixture();
  j["process"]["capabilities"]["bounding"][0] = "KILL";
  EXPECT_NE(parse_error(j).find("not a CAP_ name"), std::string::npos);
  j = fixture();
  j["ociVersion"] = "2.0.0";
  EXPECT_NE(parse_error(j).find("unsupported version"), std::string::npos);
}

TEST(OciSpec, BundleFileErrorsNameTheFile) {
  EXPECT_NE(
      error_text([] { load_spec("/nonexistent-bundle"); }).find("/nonexistent-bundle/config.json"),
      std::string::npos);
  auto dir = std::filesystem::temp_directory_path() / ("vmrt-oci-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "config.json") << "{\"ociVersion\": \"1.0.0\",\n \"root\": {";
  std::string err = error_text([&] { load_spec(dir); });
  std::filesystem::remove_all(dir);
  EXPECT_NE(err.find("malformed JSON"), std::string::npos) << err;
  EXPECT_NE(err.find("line 2"), std::string::npos) << err;
}

}  // namespace
}  // namespace vmrt::oci
