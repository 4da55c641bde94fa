// libFuzzer target: a virtio-mmio transport's snapshot state (or, as an
// array, a machine's virtio slots), as CBOR (how the snapshot file stores
// it), parsed against a fixed device and restored
// into a fresh transport over a small guest RAM. Whatever the bytes say,
// the parser either accepts a state or throws vmrt::Error; an accepted
// state must survive a save/parse round trip, and restoring it must either
// work or throw vmrt::Error, never touch memory outside the guest RAM.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/json_cbor.h"
#include "vmm/machine/virtio_slots_state.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/virtio/mmio_transport.h"
#include "vmm/virtio/mmio_transport_state.h"

namespace {

using vmrt::vmm::GuestMemory;
using namespace vmrt::vmm::virtio;

// Three queues like vsock's, two of them small, one feature bit; activation
// only takes the context (no threads).
class FixedDevice : public VirtioDevice {
 public:
  uint32_t device_type() const override { return 19; }
  uint64_t device_features() const override { return 1ull << 5; }
  std::vector<uint16_t> queue_max_sizes() const override { return {256, 16, 1}; }
  void read_config(uint64_t, std::span<uint8_t>) const override {}
  void activate(ActivateContext context) override {
    // A restored queue must be usable as is: look at it as a device would.
    for (Queue& q : context.queues)
      if (q.ready()) (void)q.has_available();
  }
  void reset() override {}
  nlohmann::json save_state() const override { return nullptr; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static GuestMemory mem = GuestMemory::create(1 << 20);
  static auto device = std::make_shared<FixedDevice>();
  // The snapshot reader's decoder: nesting and nlohmann's own exceptions
  // are its business (common/json_cbor.h).
  nlohmann::json j;
  try {
    j = vmrt::parse_cbor({data, size}, "fuzz");
  } catch (const vmrt::Error&) {
    return 0;
  }
  // An array is a machine's slots (vmm/machine/virtio_slots_state.h), here
  // two of the fixed device.
  if (j.is_array()) {
    try {
      (void)vmrt::vmm::parse_slots_state(j, {device.get(), device.get()});
    } catch (const vmrt::Error&) {
    }
    return 0;
  }
  TransportState s;
  try {
    s = parse_transport_state(j, *device);
  } catch (const vmrt::Error&) {
    return 0;
  }
  // What was accepted reads back the same.
  TransportState again = parse_transport_state(transport_state_to_json(s), *device);
  // The device's part is passed through as is (and may hold a NaN, which
  // equals nothing): compared are the transport's own fields.
  again.device = s.device = nullptr;
  if (transport_state_to_json(again) != transport_state_to_json(s)) std::abort();
  mem.fill(0, 1 << 20, 0);
  try {
    MmioTransport t(mem, device);
    t.restore_state(j);
  } catch (const vmrt::Error&) {
  }
  return 0;
}
