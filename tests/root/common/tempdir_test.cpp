// remove_tree as the attacker would like it to go: a tree with someone
// else's files mounted inside. A bind mount of the same filesystem has the
// same st_dev as the tree around it; only the mount id tells it.

#include "common/tempdir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "tests/support/error_text.h"
#include "tests/support/private_mounts.h"

namespace vmrt {
namespace {

namespace fs = std::filesystem;
using test::error_text;
using test::read_file;
using test::write_file;
using ::testing::HasSubstr;

class RemoveTreeMounts : public test::PrivateMounts {
 protected:
  void SetUp() override {
    PrivateMounts::SetUp();
    fs::create_directories(data / "sub");
    write_file(data / "keep", "host data");
    write_file(data / "sub/keep", "more host data");
    fs::create_directories(tree / "a/mnt");
    write_file(tree / "a/own", "the tree's");
  }
  void bind(const fs::path& source, const fs::path& target) {
    ASSERT_EQ(::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr), 0)
        << std::strerror(errno);
  }
  void expect_data_intact() {
    EXPECT_EQ(read_file(data / "keep"), "host data");
    EXPECT_EQ(read_file(data / "sub/keep"), "more host data");
  }

  TempDir dir{"vmrt-rmtree"};
  fs::path data = dir.path() / "data";  // someone else's files
  fs::path tree = dir.path() / "tree";  // a state or bundle tree
};

TEST_F(RemoveTreeMounts, ABindMountOfTheSameFilesystemIsNotEntered) {
  bind(data, tree / "a/mnt");
  struct stat outer {
  }, inner{};
  ASSERT_EQ(::stat(tree.c_str(), &outer), 0);
  ASSERT_EQ(::stat((tree / "a/mnt").c_str(), &inner), 0);
  ASSERT_EQ(outer.st_dev, inner.st_dev) << "the case st_dev cannot tell";

  EXPECT_EQ(error_text([&] { remove_tree(tree); }),
            (tree / "a/mnt").string() + " is a mount point: not removed, nor anything in it");
  expect_data_intact();
  EXPECT_EQ(read_file(tree / "a/mnt/keep"), "host data") << "the mount point went";
  ASSERT_EQ(::umount2((tree / "a/mnt").c_str(), 0), 0);
  // Once unmounted, the same tree goes.
  remove_tree(tree);
  EXPECT_FALSE(fs::exists(tree));
  expect_data_intact();
}

TEST_F(RemoveTreeMounts, AFileMountedOnIsNotRemoved) {
  write_file(tree / "a/hosts", "");
  bind(data / "keep", tree / "a/hosts");
  EXPECT_THAT(error_text([&] { remove_tree(tree); }),
              HasSubstr("remove " + (tree / "a/hosts").string() + ": Device or resource busy"));
  expect_data_intact();
  EXPECT_EQ(read_file(tree / "a/hosts"), "host data");
}

TEST_F(RemoveTreeMounts, ATreeThatIsItselfAMountPointIsNotEmptied) {
  bind(data, tree);
  EXPECT_EQ(error_text([&] { remove_tree(tree); }),
            tree.string() + " is a mount point: not removed, nor anything in it");
  EXPECT_THAT(error_text([&] { remove_tree(tree.string() + "/"); }), HasSubstr("is a mount point"));
  expect_data_intact();
}

TEST_F(RemoveTreeMounts, AMountDeepInsideStopsTheRemovalBeforeIt) {
  fs::create_directories(tree / "x/y/z");
  bind(data, tree / "x/y/z");
  EXPECT_THAT(error_text([&] { remove_tree(tree); }),
              HasSubstr((tree / "x/y/z").string() + " is a mount point"));
  expect_data_intact();
}

}  // namespace
}  // namespace vmrt
