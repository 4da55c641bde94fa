// libFuzzer target: the vsock device's parsers of guest and host input. A
// guest TX chain split into segments at input-chosen points must yield a
// header that is either refused with a reason or consistent with the chain;
// the hybrid handshake line must parse or be refused.
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/hybrid_vsock.h"
#include "vmm/devices/vsock/vsock_wire.h"
#include "vmm/virtio/fuzz/chain_from_input.h"

using namespace vmrt::vmm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // Segment lengths come from the first byte.
  virtio::fuzz::ChainFromInput in;
  virtio::fuzz::fill_readable(in, data + 1, size - 1, data[0]);
  const virtio::DescriptorChain& chain = in.chain;
  vsock::TxHeader h = vsock::read_tx_header(chain, 3);
  if (h.error.empty() &&
      (h.hdr.len > chain.readable_len - vsock::kHeaderSize || h.hdr.src_cid != 3))
    __builtin_trap();  // accepted something inconsistent
  std::string_view line(reinterpret_cast<const char*>(data), size);
  if (auto port = vmrt::hybrid_vsock::parse_connect(line))
    if (vmrt::hybrid_vsock::connect_line(*port) != std::string(line) + "\n") __builtin_trap();
  return 0;
}
