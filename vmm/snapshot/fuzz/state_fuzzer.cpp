// The snapshot state reader on arbitrary bytes: header checks, CBOR parse
// and the validation of the whole machine state. Each input is tried twice:
// as a state file, and as the payload of a correctly sealed one, so that
// mutations reach the CBOR and document parsers without first having to
// match the CRC.
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/error.h"
#include "vmm/snapshot/machine_state.h"
#include "vmm/snapshot/state_file.h"

namespace {

void parse(std::span<const uint8_t> file) {
  try {
    vmrt::vmm::snapshot::parse_machine_state(vmrt::vmm::snapshot::read_state_bytes(file));
  } catch (const vmrt::Error&) {
    // Refusing bad input with an Error is the expected outcome.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> input(data, size);
  parse(input);
  // Past the header of a state file (the committed seed is one), the bytes
  // are the payload; sealed again, only the parsers judge them.
  if (size >= vmrt::vmm::snapshot::kHeaderSize)
    parse(vmrt::vmm::snapshot::seal_payload(input.subspan(vmrt::vmm::snapshot::kHeaderSize)));
  return 0;
}
