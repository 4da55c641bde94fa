// libFuzzer target: a container's state.json as `vmrt state`, `list`,
// `kill` and `delete` read it. The state directory is the CLI's own, but a
// record that reads wrongly could make a command signal or remove the wrong
// thing, so the reader is strict; it must return a record or throw
// vmrt::Error. A record that reads must read again, unchanged in what it
// says, from what to_json writes of it, and must print as OCI state.
#include <cstdint>
#include <string_view>

#include "common/error.h"
#include "tools/vmrt/state_store.h"

using namespace vmrt;
using namespace vmrt::cli;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ContainerRecord r;
  try {
    r = record_from_text(text, "state.json");
  } catch (const Error&) {
    return 0;
  }
  nlohmann::json written = to_json(r);
  if (to_json(record_from_json(written, "to_json")) != written) __builtin_trap();
  oci_state_json(r, "owner").dump();
  return 0;
}
