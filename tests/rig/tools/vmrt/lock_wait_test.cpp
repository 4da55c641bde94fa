// One process of a pod waiting for a POSIX lock on the shared file system
// must stall nothing else: in a real sandbox, A holds a lock on a file of a
// volume (virtio-fs, served by vmrt's file server), B waits for it with
// F_SETLKW, C meanwhile writes and reads other files and then tells A to
// let go; B gets the lock. When a lock wait held the file server's only
// request thread, C's first request and A's unlock waited behind it forever.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/rig/tools/vmrt/vmrt_cli.h"

namespace vmrt::cli::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

TEST(VmrtSharedFs, ALockWaitStallsNoOtherRequestAndEndsAtTheUnlock) {
  VmrtCli cli;
  fs::path volume = cli.dir() / "volume";
  fs::create_directories(volume / "io");
  auto b = cli.bundle("b",
                      {"sh", "-c",
                       "/lock_probe hold /data/lock /data/go & sleep 2; "
                       "/lock_probe wait /data/lock & sleep 2; "
                       "/lock_probe io /data/io 50 /data/go; wait"},
                      [&](nlohmann::json& spec) {
                        spec["mounts"].push_back({{"destination", "/data"},
                                                  {"type", "bind"},
                                                  {"source", volume.string()},
                                                  {"options", {"rbind", "rw"}}});
                      });
  fs::copy_file(VMRT_TEST_LOCK_PROBE, b / "rootfs/lock_probe");
  RunResult r = cli.run({"run", "-b", b.string(), "locks"}, "", 300s);
  ASSERT_FALSE(r.timed_out) << "the pod's file system stalled behind the lock wait\n"
                            << r.out << r.err;
  EXPECT_EQ(r.status.code, 0) << r.out << r.err;
  // C's I/O finished while B waited; only A's release gave B the lock.
  EXPECT_EQ(r.out, "A held\nC io done\nA releasing\nB got\n") << r.err;
  EXPECT_TRUE(fs::exists(volume / "go"));
}

}  // namespace
}  // namespace vmrt::cli::test
