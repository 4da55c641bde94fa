#include "common/tempdir.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "tests/support/error_text.h"

namespace vmrt {
namespace {

namespace fs = std::filesystem;

TEST(TempDir, IsCreatedUnderTheBaseWithThePrefix) {
  TempDir base("vmrt-test-base");
  TempDir dir("vmrt-test", base.path());
  EXPECT_EQ(dir.path().parent_path(), base.path());
  EXPECT_EQ(dir.path().filename().string().rfind("vmrt-test.", 0), 0u);
  EXPECT_TRUE(fs::is_directory(dir.path()));
  EXPECT_NE(test::error_text([] { TempDir("x", "/nonexistent/base"); }).find("/nonexistent/base"),
            std::string::npos);
}

TEST(TempDir, IsRemovedWithItsContentsButNotWhatSymlinksPointTo) {
  TempDir outside("vmrt-test-outside");
  std::ofstream(outside.path() / "keep") << "x";
  fs::create_directory(outside.path() / "subdir");
  std::ofstream(outside.path() / "subdir/keep") << "x";
  fs::path inner;
  {
    TempDir dir("vmrt-test");
    inner = dir.path();
    fs::create_directories(inner / "a/b/c");
    std::ofstream(inner / "a/b/file") << "data";
    std::ofstream(inner / "a/b/c/.hidden") << "data";
    fs::create_directory_symlink(outside.path(), inner / "link");
    fs::create_directory_symlink(outside.path() / "subdir", inner / "a/b/deep-link");
    fs::create_symlink(outside.path() / "keep", inner / "a/file-link");
    fs::create_symlink("/nonexistent", inner / "dangling");
  }
  EXPECT_FALSE(fs::exists(fs::symlink_status(inner)));
  EXPECT_TRUE(fs::exists(outside.path() / "keep")) << "removal followed a symlink out of the tree";
  EXPECT_TRUE(fs::exists(outside.path() / "subdir/keep"));
}

TEST(TempDir, MovedFromOwnsNothing) {
  fs::path p;
  {
    TempDir a("vmrt-test");
    p = a.path();
    TempDir b(std::move(a));
    EXPECT_TRUE(a.path().empty());
    EXPECT_EQ(b.path(), p);
  }
  EXPECT_FALSE(fs::exists(p));
}

TEST(TempDir, ReleaseKeepsTheDirectory) {
  fs::path kept;
  {
    TempDir dir("vmrt-test");
    kept = dir.release();
  }
  EXPECT_TRUE(fs::is_directory(kept));
  remove_tree(kept);
  EXPECT_FALSE(fs::exists(kept));
}

TEST(RemoveTree, ALinkAsTheRootIsRemovedNotFollowed) {
  TempDir dir("vmrt-test");
  fs::create_directory(dir.path() / "target");
  std::ofstream(dir.path() / "target/keep") << "x";
  fs::create_directory_symlink(dir.path() / "target", dir.path() / "link");
  remove_tree(dir.path() / "link");
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir.path() / "link")));
  EXPECT_TRUE(fs::exists(dir.path() / "target/keep"));
  remove_tree(dir.path() / "missing");  // not an error
}

// Needs CAP_SYS_ADMIN for a private mount namespace; skipped without it. The
// mount happens in a child's own namespace, so nothing leaks to the host.
TEST(RemoveTree, DoesNotEmptyAMountInsideTheTree) {
  TempDir dir("vmrt-test");
  fs::create_directory(dir.path() / "mnt");
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (unshare(CLONE_NEWNS) < 0 ||
        mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0 ||
        mount("tmpfs", (dir.path() / "mnt").c_str(), "tmpfs", 0, nullptr) < 0)
      _exit(2);
    std::ofstream(dir.path() / "mnt/keep") << "x";
    std::string err = test::error_text([&] { remove_tree(dir.path()); });
    bool kept = fs::exists(dir.path() / "mnt/keep");
    _exit(err.find("mnt") != std::string::npos && kept ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 2) GTEST_SKIP() << "no permission for a private mount namespace";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the mount's contents were removed or no error named it";
}

}  // namespace
}  // namespace vmrt
