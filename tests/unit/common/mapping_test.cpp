#include "common/mapping.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "common/error.h"
#include "common/fd.h"
#include "tests/support/error_text.h"

namespace vmrt {
namespace {

// Whether [p, p+len) is mapped: mincore fails with ENOMEM on unmapped pages.
bool is_mapped(void* p, size_t len) {
  unsigned char vec[16];
  return ::mincore(p, len, vec) == 0;
}

TEST(Mapping, AnonymousIsZeroFilledAndWritable) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  Mapping m = Mapping::anonymous(2 * page);
  ASSERT_TRUE(m.valid());
  EXPECT_EQ(m.size(), 2 * page);
  EXPECT_EQ(m.span().size(), 2 * page);
  for (std::byte b : m.span()) ASSERT_EQ(b, std::byte{0});
  m.span()[page] = std::byte{7};
  EXPECT_EQ(static_cast<unsigned char*>(m.data())[page], 7);
}

TEST(Mapping, IsUnmappedOnDestructionAndMoveTransfersOwnership) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* addr;
  {
    Mapping a = Mapping::anonymous(page);
    addr = a.data();
    Mapping b(std::move(a));
    EXPECT_FALSE(a.valid());
    EXPECT_EQ(a.size(), 0u);
    EXPECT_EQ(b.data(), addr);
    Mapping c;
    c = std::move(b);
    EXPECT_EQ(c.data(), addr);
    EXPECT_TRUE(is_mapped(addr, page));
  }
  EXPECT_FALSE(is_mapped(addr, page));
}

TEST(Mapping, FdBackedSharesWritesWithTheFile) {
  UniqueFd fd(::memfd_create("vmrt-mapping-test", MFD_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  ASSERT_EQ(::ftruncate(fd.get(), static_cast<off_t>(page)), 0);
  Mapping m = Mapping::of_fd(fd.get(), page, 0, PROT_READ | PROT_WRITE);
  std::memcpy(m.data(), "hello", 5);
  char buf[5];
  ASSERT_EQ(::pread(fd.get(), buf, 5, 0), 5);
  EXPECT_EQ(std::string(buf, 5), "hello");
}

TEST(Mapping, FailuresSayWhatWasMapped) {
  EXPECT_EQ(test::error_text([] { Mapping::anonymous(0); }),
            "cannot map 0 bytes of anonymous memory");
  std::string err = test::error_text([] { Mapping::of_fd(-1, 4096); });
  EXPECT_NE(err.find("mmap of 4096 bytes of fd -1"), std::string::npos) << err;
  EXPECT_NE(err.find("Bad file descriptor"), std::string::npos) << err;
}

}  // namespace
}  // namespace vmrt
