// The virtio-fs file server's check of an Activate command (from a VMM that
// may be compromised): the first input byte is how many descriptors came
// with it, the rest the command's bytes; ring addresses land in and out of a
// small guest RAM. Anything accepted must be a queue that pops safely.
#include <cstdint>
#include <cstring>

#include "common/error.h"
#include "vmm/devices/fs/activate_command.h"

using namespace vmrt;
using namespace vmrt::vmm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static GuestMemory mem = GuestMemory::create(2 << 20);
  if (size < 1) return 0;
  size_t fds = data[0];
  fs::wire::Command cmd{};
  size_t bytes = std::min(size - 1, sizeof cmd);
  std::memcpy(&cmd, data + 1, bytes);
  // A command shorter than the struct is sent as such; the rest reads zero.
  try {
    auto queues = fs::queues_for(cmd, bytes, fds, mem);
    for (auto& q : queues)
      if (q.ready()) (void)q.pop();
  } catch (const Error&) {
  }
  return 0;
}
