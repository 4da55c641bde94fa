#pragma once
// Port-I/O and MMIO dispatch: vCPU exits are routed by address to the device
// that claimed the range. Ranges are registered before the vCPUs start and
// never change afterwards, so lookups take no lock; devices lock themselves.

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>

namespace vmrt::vmm {

class BusDevice {
 public:
  virtual ~BusDevice() = default;
  // `offset` is relative to the start of the device's range; `data` is the
  // access width (1, 2, 4 or 8 bytes).
  virtual void read(uint64_t offset, std::span<uint8_t> data) = 0;
  virtual void write(uint64_t offset, std::span<const uint8_t> data) = 0;
};

class Bus {
 public:
  explicit Bus(std::string name) : name_(std::move(name)) {}

  // Claims [base, base + len) for `device`; throws vmrt::Error on overlap.
  void add(uint64_t base, uint64_t len, std::shared_ptr<BusDevice> device, std::string label);

  // Dispatches an access; false when no device claims the whole access.
  // Unclaimed reads are filled with 0xff, as on an ISA bus with nothing on it.
  bool read(uint64_t addr, std::span<uint8_t> data) const;
  bool write(uint64_t addr, std::span<const uint8_t> data) const;

 private:
  struct Range {
    uint64_t len;
    std::shared_ptr<BusDevice> device;
    std::string label;
  };
  // Keyed by base address.
  const std::pair<const uint64_t, Range>* find(uint64_t addr, uint64_t len) const;

  std::string name_;
  std::map<uint64_t, Range> ranges_;
};

}  // namespace vmrt::vmm
