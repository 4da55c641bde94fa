#pragma once
// What the virtio-fs device was asked and what it refused: read by the
// VMM's control socket, tests and logs, written by the file server's queue
// threads. The file server is a process of its own, so the counters live in
// a shared anonymous mapping made before it is forked: the server only ever
// increments them, and nothing it reads depends on them, so a VMM that
// scribbles on the page changes numbers, not what the server does.

#include <atomic>
#include <cstdint>
#include <span>
#include <string>

namespace vmrt::vmm::fs {

struct FsCounters {
  // FUSE opcodes up to FUSE_TMPFILE have a slot each; larger ones (CUSE_INIT,
  // made-up numbers) share the last.
  static constexpr uint32_t kOpcodeSlots = 64;
  // Requests by fuse_in_header.opcode, each counted once it parsed.
  std::atomic<uint64_t> requests[kOpcodeSlots]{};
  // Replies carrying an errno (fuse_out_header.error != 0), deferred ones
  // (SETLKW) included.
  std::atomic<uint64_t> errors{0};
  // Requests refused unparsed: shorter than a FUSE header, or whose header
  // claims more than the chain holds (answered EINVAL).
  std::atomic<uint64_t> malformed{0};

  static uint32_t slot(uint32_t opcode) noexcept {
    return opcode < kOpcodeSlots ? opcode : kOpcodeSlots - 1;
  }
};

// "LOOKUP", "INIT", ...; "OPCODE_<n>" for slots without a name.
std::string fuse_opcode_name(uint32_t slot);

// One FsCounters in memory shared with the processes the owner forks.
class SharedFsCounters {
 public:
  SharedFsCounters();  // throws vmrt::Error when it cannot map
  SharedFsCounters(const SharedFsCounters&) = delete;
  SharedFsCounters& operator=(const SharedFsCounters&) = delete;
  ~SharedFsCounters();

  FsCounters& get() const noexcept { return *counters_; }

 private:
  FsCounters* counters_;
};

}  // namespace vmrt::vmm::fs
