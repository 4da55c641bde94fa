#include "vmm/snapshot/memory_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/error.h"

namespace vmrt::vmm::snapshot {

namespace {

constexpr uint64_t kPage = 4096;

bool page_is_zero(const uint8_t* p) {
  // Word-wise: this runs over every touched page of RAM.
  const auto* w = reinterpret_cast<const uint64_t*>(p);
  for (size_t i = 0; i < kPage / sizeof(uint64_t); ++i)
    if (w[i]) return false;
  return true;
}

void pwrite_all(int fd, const uint8_t* data, uint64_t len, uint64_t off) {
  while (len > 0) {
    ssize_t n = pwrite(fd, data, std::min<uint64_t>(len, 1 << 30), static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw_errno("snapshot memory file: write");
    data += n;
    off += static_cast<uint64_t>(n);
    len -= static_cast<uint64_t>(n);
  }
}

// Writes the non-zero pages of [begin, end) (offsets into RAM), joining
// neighbours into one write.
void write_range(int fd, const uint8_t* base, uint64_t begin, uint64_t end) {
  uint64_t run = begin;  // start of the pending non-zero run
  for (uint64_t off = begin; off < end; off += kPage) {
    if (!page_is_zero(base + off)) continue;
    if (off > run) pwrite_all(fd, base + run, off - run, run);
    run = off + kPage;
  }
  if (end > run) pwrite_all(fd, base + run, end - run, run);
}

// The next [data, hole) extent of the memfd at or after `off`, or nullopt.
// A memfd's holes are pages the guest never touched; reading them through
// the mapping would allocate them for nothing.
bool next_data(int fd, uint64_t off, uint64_t size, uint64_t& data, uint64_t& hole) {
  off_t d = lseek(fd, static_cast<off_t>(off), SEEK_DATA);
  if (d < 0) {
    if (errno == ENXIO) return false;  // no data after `off`
    throw_errno("snapshot memory file: SEEK_DATA on guest RAM");
  }
  off_t h = lseek(fd, d, SEEK_HOLE);
  if (h < 0) throw_errno("snapshot memory file: SEEK_HOLE on guest RAM");
  data = static_cast<uint64_t>(d) & ~(kPage - 1);
  hole = std::min(size, (static_cast<uint64_t>(h) + kPage - 1) & ~(kPage - 1));
  return data < size;
}

}  // namespace

void write_memory_file(int fd, const GuestMemory& mem) {
  // Zero pages are skipped, not written: whatever the file held before
  // must go, or it would show through the holes.
  if (ftruncate(fd, 0) != 0) throw_errno("snapshot memory file: empty it");
  const uint8_t* base = mem.host_base();
  if (mem.shareable()) {
    for (uint64_t off = 0, data, hole;
         off < mem.size() && next_data(mem.fd(), off, mem.size(), data, hole); off = hole)
      write_range(fd, base, data, hole);
  } else {
    // RAM mapped privately from a file: the guest's changes are only in the
    // mapping, so every page is read from there.
    write_range(fd, base, 0, mem.size());
  }
  // The tail of zero pages is a hole too, but the file has RAM's full size.
  if (ftruncate(fd, static_cast<off_t>(mem.size())) != 0)
    throw_errno("snapshot memory file: set its size");
}

}  // namespace vmrt::vmm::snapshot
