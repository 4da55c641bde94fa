// `vmrt spec`: a valid config.json, and the one runc writes.
#include "tools/vmrt/default_spec.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "common/oci/spec.h"
#include "common/process.h"
#include "common/tempdir.h"

namespace vmrt::cli {
namespace {

using nlohmann::json;

TEST(DefaultSpec, IsAValidSpecForCreate) {
  oci::Spec s = oci::parse_spec(default_spec(), oci::Purpose::Create, "vmrt spec");
  ASSERT_TRUE(s.process);
  EXPECT_TRUE(s.process->terminal);
  EXPECT_EQ(s.process->args, oci::Strings{"sh"});
  EXPECT_EQ(s.process->env.size(), 2u);
  EXPECT_EQ(s.process->cwd, "/");
  EXPECT_TRUE(s.process->no_new_privileges);
  EXPECT_EQ(s.process->capabilities.bounding,
            (oci::Strings{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}));
  ASSERT_EQ(s.process->rlimits.size(), 1u);
  EXPECT_EQ(s.process->rlimits[0].type, "RLIMIT_NOFILE");
  EXPECT_EQ(s.process->rlimits[0].soft, 1024u);
  EXPECT_EQ(s.root.path, "rootfs");
  EXPECT_TRUE(s.root.readonly);
  EXPECT_EQ(s.hostname, "vmrt");
  EXPECT_EQ(s.mounts.size(), 7u);
  std::vector<std::string> ns;
  for (const oci::Namespace& n : s.linux.namespaces) ns.push_back(n.type);
  EXPECT_EQ(ns, (oci::Strings{"pid", "network", "ipc", "uts", "mount"}));
  EXPECT_EQ(s.linux.masked_paths.size(), 10u);
  EXPECT_EQ(s.linux.readonly_paths.size(), 5u);
}

TEST(DefaultSpec, RoundTripsThroughTheModel) {
  // Nothing in it is a field the model drops.
  EXPECT_EQ(oci::to_json(oci::parse_spec(default_spec())), default_spec());
}

// Where runc is installed, its own `runc spec` is the reference: the same
// document but for the hostname.
TEST(DefaultSpec, MatchesRuncSpec) {
  if (::access("/usr/bin/runc", X_OK) != 0 && ::access("/usr/sbin/runc", X_OK) != 0)
    GTEST_SKIP() << "runc is not installed";
  TempDir dir("spec-test");
  SpawnOptions options;
  options.cwd = dir.path();
  RunResult r = run_capture({"runc", "spec"}, std::chrono::seconds(30), options);
  ASSERT_TRUE(r.status.success()) << r.err;
  json runc = json::parse(std::ifstream(dir.path() / "config.json"));
  json ours = default_spec();
  EXPECT_EQ(ours["hostname"], "vmrt");
  ours["hostname"] = runc["hostname"];
  EXPECT_EQ(ours, runc) << "ours:\n" << ours.dump(2) << "\nrunc:\n" << runc.dump(2);
}

}  // namespace
}  // namespace vmrt::cli
