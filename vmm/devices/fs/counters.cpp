#include "vmm/devices/fs/counters.h"

#include <linux/fuse.h>
#include <sys/mman.h>

#include <new>

#include "common/error.h"

namespace vmrt::vmm::fs {

static_assert(FUSE_TMPFILE < FsCounters::kOpcodeSlots - 1);
// Shared between processes: the atomics must not hide a lock in one of them.
static_assert(std::atomic<uint64_t>::is_always_lock_free);

std::string fuse_opcode_name(uint32_t slot) {
  switch (slot) {
#define VMRT_FUSE_OPCODE(name) \
  case FUSE_##name:            \
    return #name;
    VMRT_FUSE_OPCODE(LOOKUP)
    VMRT_FUSE_OPCODE(FORGET)
    VMRT_FUSE_OPCODE(GETATTR)
    VMRT_FUSE_OPCODE(SETATTR)
    VMRT_FUSE_OPCODE(READLINK)
    VMRT_FUSE_OPCODE(SYMLINK)
    VMRT_FUSE_OPCODE(MKNOD)
    VMRT_FUSE_OPCODE(MKDIR)
    VMRT_FUSE_OPCODE(UNLINK)
    VMRT_FUSE_OPCODE(RMDIR)
    VMRT_FUSE_OPCODE(RENAME)
    VMRT_FUSE_OPCODE(LINK)
    VMRT_FUSE_OPCODE(OPEN)
    VMRT_FUSE_OPCODE(READ)
    VMRT_FUSE_OPCODE(WRITE)
    VMRT_FUSE_OPCODE(STATFS)
    VMRT_FUSE_OPCODE(RELEASE)
    VMRT_FUSE_OPCODE(FSYNC)
    VMRT_FUSE_OPCODE(SETXATTR)
    VMRT_FUSE_OPCODE(GETXATTR)
    VMRT_FUSE_OPCODE(LISTXATTR)
    VMRT_FUSE_OPCODE(REMOVEXATTR)
    VMRT_FUSE_OPCODE(FLUSH)
    VMRT_FUSE_OPCODE(INIT)
    VMRT_FUSE_OPCODE(OPENDIR)
    VMRT_FUSE_OPCODE(READDIR)
    VMRT_FUSE_OPCODE(RELEASEDIR)
    VMRT_FUSE_OPCODE(FSYNCDIR)
    VMRT_FUSE_OPCODE(GETLK)
    VMRT_FUSE_OPCODE(SETLK)
    VMRT_FUSE_OPCODE(SETLKW)
    VMRT_FUSE_OPCODE(ACCESS)
    VMRT_FUSE_OPCODE(CREATE)
    VMRT_FUSE_OPCODE(INTERRUPT)
    VMRT_FUSE_OPCODE(BMAP)
    VMRT_FUSE_OPCODE(DESTROY)
    VMRT_FUSE_OPCODE(IOCTL)
    VMRT_FUSE_OPCODE(POLL)
    VMRT_FUSE_OPCODE(NOTIFY_REPLY)
    VMRT_FUSE_OPCODE(BATCH_FORGET)
    VMRT_FUSE_OPCODE(FALLOCATE)
    VMRT_FUSE_OPCODE(READDIRPLUS)
    VMRT_FUSE_OPCODE(RENAME2)
    VMRT_FUSE_OPCODE(LSEEK)
    VMRT_FUSE_OPCODE(COPY_FILE_RANGE)
    VMRT_FUSE_OPCODE(SETUPMAPPING)
    VMRT_FUSE_OPCODE(REMOVEMAPPING)
    VMRT_FUSE_OPCODE(SYNCFS)
    VMRT_FUSE_OPCODE(TMPFILE)
#undef VMRT_FUSE_OPCODE
    default:
      return "OPCODE_" + std::to_string(slot);
  }
}

SharedFsCounters::SharedFsCounters() {
  void* p = ::mmap(nullptr, sizeof(FsCounters), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
  if (p == MAP_FAILED) throw_errno("mmap of the virtio-fs counters");
  counters_ = new (p) FsCounters;
}

SharedFsCounters::~SharedFsCounters() {
  counters_->~FsCounters();
  ::munmap(counters_, sizeof(FsCounters));
}

}  // namespace vmrt::vmm::fs
