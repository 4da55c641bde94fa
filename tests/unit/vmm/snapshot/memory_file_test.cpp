#include "vmm/snapshot/memory_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "common/tempdir.h"

namespace vmrt::vmm::snapshot {
namespace {

constexpr uint64_t kRam = 4 << 20;

UniqueFd create_file(const TempDir& dir, const char* name) {
  UniqueFd fd(::open((dir.path() / name).c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) throw_errno("create test file");
  return fd;
}

TEST(MemoryFile, RoundTripsIntoAPrivateMappingWithHoles) {
  GuestMemory mem = GuestMemory::create(kRam);
  mem.write_obj<uint64_t>(0x1000, 0x1122334455667788);
  mem.fill(0x200000, 8192, 0xab);
  mem.write_obj<uint32_t>(kRam - 4, 0xdeadbeef);
  TempDir dir("memfile");
  UniqueFd file = create_file(dir, "mem");
  write_memory_file(file.get(), mem);

  struct stat st;
  ASSERT_EQ(fstat(file.get(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), kRam);
  // Four non-zero pages were written; the rest are holes (st_blocks counts
  // 512-byte units actually allocated).
  EXPECT_LE(static_cast<uint64_t>(st.st_blocks) * 512, uint64_t{64} << 10);
  EXPECT_EQ(lseek(file.get(), 0, SEEK_HOLE), 0) << "page 0 is zero and must be a hole";
  EXPECT_EQ(lseek(file.get(), 0, SEEK_DATA), 0x1000);

  GuestMemory back = GuestMemory::map_private(std::move(file), kRam);
  EXPECT_FALSE(back.shareable());
  EXPECT_TRUE(mem.shareable());
  EXPECT_EQ(back.regions().size(), mem.regions().size());
  EXPECT_EQ(back.read_obj<uint64_t>(0x1000), 0x1122334455667788u);
  EXPECT_EQ(back.read_obj<uint8_t>(0x200000 + 8191), 0xab);
  EXPECT_EQ(back.read_obj<uint32_t>(kRam - 4), 0xdeadbeefu);
  EXPECT_EQ(back.read_obj<uint64_t>(0x300000), 0u);
}

// The VM touching and writing the file's holes allocates nothing in the
// file (on tmpfs a mapped hole would be filled, in the template, charged to
// the VMM): only anonymous pages of its own.
TEST(MemoryFile, TouchingTheHolesAllocatesNothingInTheFile) {
  GuestMemory mem = GuestMemory::create(kRam);
  mem.write_obj<uint64_t>(0x1000, 1);
  mem.write_obj<uint64_t>(kRam - 8, 2);
  // /dev/shm: tmpfs, where the difference shows.
  TempDir dir("memfile", "/dev/shm");
  UniqueFd file = create_file(dir, "mem");
  write_memory_file(file.get(), mem);
  struct stat before {
  }, after{};
  ASSERT_EQ(fstat(file.get(), &before), 0);
  UniqueFd again(::open((dir.path() / "mem").c_str(), O_RDONLY | O_CLOEXEC));
  GuestMemory back = GuestMemory::map_private(std::move(file), kRam);
  uint64_t sum = 0;
  for (uint64_t gpa = 0x800; gpa < kRam; gpa += 4096) sum += back.read_obj<uint8_t>(gpa);
  back.fill(0x100000, 0x100000, 0x5a);
  EXPECT_EQ(sum, 0u);
  EXPECT_EQ(back.read_obj<uint64_t>(0x1000), 1u);
  EXPECT_EQ(back.read_obj<uint64_t>(kRam - 8), 2u);
  ASSERT_EQ(fstat(again.get(), &after), 0);
  EXPECT_EQ(after.st_blocks, before.st_blocks);
}

TEST(MemoryFile, PrivateMappingsCopyOnWrite) {
  GuestMemory mem = GuestMemory::create(kRam);
  mem.write_obj<uint32_t>(0x5000, 1);
  TempDir dir("memfile");
  UniqueFd file = create_file(dir, "mem");
  write_memory_file(file.get(), mem);
  UniqueFd again(::open((dir.path() / "mem").c_str(), O_RDONLY | O_CLOEXEC));
  GuestMemory a = GuestMemory::map_private(std::move(file), kRam);
  GuestMemory b = GuestMemory::map_private(std::move(again), kRam);
  a.write_obj<uint32_t>(0x5000, 2);
  b.write_obj<uint32_t>(0x6000, 3);
  EXPECT_EQ(b.read_obj<uint32_t>(0x5000), 1u);
  EXPECT_EQ(a.read_obj<uint32_t>(0x6000), 0u);
  uint32_t in_file = 0;
  ASSERT_EQ(pread(a.fd(), &in_file, 4, 0x5000), 4);
  EXPECT_EQ(in_file, 1u) << "a private mapping never writes to the file";

  // A snapshot of privately mapped RAM holds that VM's own writes.
  UniqueFd second = create_file(dir, "mem2");
  write_memory_file(second.get(), a);
  GuestMemory c = GuestMemory::map_private(std::move(second), kRam);
  EXPECT_EQ(c.read_obj<uint32_t>(0x5000), 2u);
}

// A copy holds the file's data, allocates nothing for its holes, and
// shares no page with the file: neither side sees the other's later writes.
TEST(MemoryFile, ACopyIsRamOfItsOwn) {
  GuestMemory mem = GuestMemory::create(kRam);
  mem.write_obj<uint64_t>(0x1000, 0x1122334455667788);
  mem.fill(0x200000, 8192, 0xab);
  mem.write_obj<uint32_t>(kRam - 4, 0xdeadbeef);
  TempDir dir("memfile", "/dev/shm");
  UniqueFd file = create_file(dir, "mem");
  write_memory_file(file.get(), mem);
  UniqueFd again(::open((dir.path() / "mem").c_str(), O_RDWR | O_CLOEXEC));

  GuestMemory copy = GuestMemory::copy_of(std::move(file), kRam);
  EXPECT_TRUE(copy.shareable()) << "a copy is a memfd like a booted VM's";
  // Only the data pages were written: the rest of the memfd is a hole
  // (until read: reading a shared memfd mapping allocates).
  EXPECT_EQ(lseek(copy.fd(), 0, SEEK_DATA), 0x1000);
  EXPECT_EQ(lseek(copy.fd(), 0x3000, SEEK_DATA), 0x200000);
  EXPECT_EQ(lseek(copy.fd(), 0x202000, SEEK_DATA), static_cast<off_t>(kRam - 4096));
  EXPECT_EQ(copy.read_obj<uint64_t>(0x1000), 0x1122334455667788u);
  EXPECT_EQ(copy.read_obj<uint8_t>(0x200000 + 8191), 0xab);
  EXPECT_EQ(copy.read_obj<uint32_t>(kRam - 4), 0xdeadbeefu);
  EXPECT_EQ(copy.read_obj<uint64_t>(0x300000), 0u);

  copy.write_obj<uint32_t>(0x5000, 9);
  uint32_t in_file = 1;
  ASSERT_EQ(pread(again.get(), &in_file, 4, 0x5000), 4);
  EXPECT_EQ(in_file, 0u) << "the copy's writes reached the file";
  uint32_t changed = 7;
  ASSERT_EQ(pwrite(again.get(), &changed, 4, 0x1000), 4);
  EXPECT_EQ(copy.read_obj<uint32_t>(0x1000), 0x55667788u) << "the file's change reached the copy";
}

TEST(MemoryFile, ACopyRefusesAFileOfAnotherSize) {
  GuestMemory mem = GuestMemory::create(kRam);
  TempDir dir("memfile");
  UniqueFd file = create_file(dir, "mem");
  write_memory_file(file.get(), mem);
  EXPECT_THROW(GuestMemory::copy_of(std::move(file), kRam * 2), Error);
}

TEST(MemoryFile, OldContentsDoNotShowThroughTheHoles) {
  TempDir dir("memfile");
  UniqueFd file = create_file(dir, "mem");
  std::vector<uint8_t> junk(kRam + 4096, 0x5a);
  ASSERT_EQ(pwrite(file.get(), junk.data(), junk.size(), 0), static_cast<ssize_t>(junk.size()));
  GuestMemory mem = GuestMemory::create(kRam);
  mem.write_obj<uint32_t>(0x1000, 7);
  write_memory_file(file.get(), mem);
  GuestMemory back = GuestMemory::map_private(std::move(file), kRam);
  EXPECT_EQ(back.read_obj<uint32_t>(0x1000), 7u);
  EXPECT_EQ(back.read_obj<uint64_t>(0x2000), 0u);
}

TEST(MemoryFile, RefusesAFileOfAnotherSize) {
  GuestMemory mem = GuestMemory::create(kRam);
  TempDir dir("memfile");
  UniqueFd file = create_file(dir, "mem");
  write_memory_file(file.get(), mem);
  try {
    GuestMemory::map_private(std::move(file), kRam * 2);
    FAIL() << "a memory file of the wrong size was mapped";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("holds 4194304 bytes"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vmrt::vmm::snapshot
