// Reading kernel and initrd files: every failure names the file.
#include "vmm/boot/image_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "common/tempdir.h"
#include "tests/support/error_text.h"

namespace vmrt::vmm::boot {
namespace {

using vmrt::test::error_text;

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, needle, haystack)

struct ImageFile : ::testing::Test {
  TempDir dir;
  std::string file(const std::string& name, size_t size) {
    auto p = (dir.path() / name).string();
    std::ofstream(p, std::ios::binary) << std::string(size, 'k');
    return p;
  }
};

TEST_F(ImageFile, ReadsTheWholeFile) {
  auto p = file("vmlinux", 100000);
  auto file = read_image_file("guest kernel", p, 1 << 20);
  ASSERT_EQ(file.bytes().size(), 100000u);
  EXPECT_EQ(file.bytes().back(), 'k');
}

TEST_F(ImageFile, NamesMissingEmptyAndOddFiles) {
  auto missing = (dir.path() / "missing").string();
  EXPECT_CONTAINS(error_text([&] { read_image_file("guest kernel", missing, 1 << 20); }),
                  "cannot open guest kernel " + missing + ": No such file or directory");
  auto empty = file("empty", 0);
  EXPECT_EQ(error_text([&] { read_image_file("initrd", empty, 1 << 20); }),
            "initrd " + empty + " is empty");
  EXPECT_EQ(error_text([&] { read_image_file("initrd", dir.path().string(), 1 << 20); }),
            "initrd " + dir.path().string() + " is not a regular file");
}

TEST_F(ImageFile, RefusesFilesLargerThanGuestRam) {
  auto p = file("initrd", (3 << 20) + 1);
  EXPECT_EQ(error_text([&] { read_image_file("initrd", p, 2 << 20); }),
            "initrd " + p + " of 4 MiB does not fit in 2 MiB of guest RAM");
}

// Root reads any file: as root, the read happens with the effective uid of
// nobody (which drops the effective capabilities), restored afterwards.
class AsNobody {
 public:
  AsNobody() : was_root_(::geteuid() == 0) {
    if (was_root_ && ::seteuid(65534) != 0) ADD_FAILURE() << "seteuid(65534) failed";
  }
  ~AsNobody() {
    if (was_root_ && ::seteuid(0) != 0) std::abort();  // the rest of the suite needs root back
  }

 private:
  bool was_root_;
};

TEST_F(ImageFile, NamesUnreadableFiles) {
  auto p = file("secret", 10);
  chmod(p.c_str(), 0);
  std::string error;
  {
    AsNobody nobody;
    error = error_text([&] { read_image_file("guest kernel", p, 1 << 20); });
  }
  EXPECT_CONTAINS(error, "cannot open guest kernel " + p + ": Permission denied");
}

}  // namespace
}  // namespace vmrt::vmm::boot
