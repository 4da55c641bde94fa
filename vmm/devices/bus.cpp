#include "vmm/devices/bus.h"

#include <cstring>

#include "common/error.h"

namespace vmrt::vmm {

void Bus::add(uint64_t base, uint64_t len, std::shared_ptr<BusDevice> device, std::string label) {
  if (len == 0 || base + len < base)
    fail("{} bus: bad range {:#x}+{:#x} for {}", name_, base, len, label);
  auto next = ranges_.lower_bound(base);
  if (next != ranges_.end() && next->first < base + len)
    fail("{} bus: {} at {:#x} overlaps {}", name_, label, base, next->second.label);
  if (next != ranges_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second.len > base)
      fail("{} bus: {} at {:#x} overlaps {}", name_, label, base, prev->second.label);
  }
  ranges_.emplace(base, Range{len, std::move(device), std::move(label)});
}

const std::pair<const uint64_t, Bus::Range>* Bus::find(uint64_t addr, uint64_t len) const {
  auto it = ranges_.upper_bound(addr);
  if (it == ranges_.begin()) return nullptr;
  --it;
  uint64_t off = addr - it->first;
  if (off >= it->second.len || len > it->second.len - off) return nullptr;
  return &*it;
}

bool Bus::read(uint64_t addr, std::span<uint8_t> data) const {
  const auto* r = find(addr, data.size());
  if (!r) {
    std::memset(data.data(), 0xff, data.size());
    return false;
  }
  r->second.device->read(addr - r->first, data);
  return true;
}

bool Bus::write(uint64_t addr, std::span<const uint8_t> data) const {
  const auto* r = find(addr, data.size());
  if (!r) return false;
  r->second.device->write(addr - r->first, data);
  return true;
}

}  // namespace vmrt::vmm
