#include "vmm/machine/vm_snapshot.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "common/error.h"
#include "vmm/snapshot/memory_file.h"
#include "vmm/snapshot/state_file.h"

namespace vmrt::vmm {

namespace {

UniqueFd open_in(const std::string& dir, const char* name, int flags) {
  std::string path = dir + "/" + name;
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0600);
  if (fd < 0) throw_errno(fmt::format("snapshot {}: cannot open {}", name, path));
  return UniqueFd(fd);
}

}  // namespace

SnapshotFiles SnapshotFiles::create(const std::string& dir) {
  return {open_in(dir, "state", O_RDWR | O_CREAT | O_TRUNC),
          open_in(dir, "memory", O_RDWR | O_CREAT | O_TRUNC)};
}

void take_snapshot(Machine& machine, VirtioSlots& slots, SnapshotFiles& files) {
  auto started = std::chrono::steady_clock::now();
  machine.pause();
  try {
    slots.quiesce();
  } catch (...) {
    machine.resume();  // a device refused for now: the caller asks again
    throw;
  }
  // From here the VM stays paused and its devices stopped, whatever happens.
  nlohmann::json doc{{"devices", slots.save_state()}, {"machine", machine.save_state()}};
  snapshot::write_state_file(files.state.get(), doc);
  snapshot::write_memory_file(files.memory.get(), machine.memory());
  spdlog::info("snapshot written in {} ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::steady_clock::now() - started)
                                                .count());
}

SnapshotSource SnapshotSource::open(const std::string& dir) {
  UniqueFd state = open_in(dir, "state", O_RDONLY);
  SnapshotSource s{snapshot::read_state_file(state.get()), open_in(dir, "memory", O_RDONLY)};
  if (!s.state.is_object() || !s.state.contains("machine") || !s.state.contains("devices"))
    fail("snapshot {}: the state holds no machine or no devices", dir);
  return s;
}

}  // namespace vmrt::vmm
