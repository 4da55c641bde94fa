// libFuzzer target: config.json text as a bundle (or CreateContainer's
// oci_spec_json) carries it, through the OCI spec reader and validator and
// on to the agent's spec -> plan translation, which computes every mount,
// namespace, cgroup write and seccomp filter without touching the system.
// Each step returns a result or throws vmrt::Error; any other exception
// escapes to libFuzzer and is reported as a finding. A spec that reads must
// also read again from what to_json writes of it: the writer and the reader
// share one list of keys and must agree.
#include <cstdint>
#include <string_view>

#include "agent/container/plan.h"
#include "common/error.h"
#include "common/json_text.h"
#include "common/log.h"
#include "common/oci/spec.h"

using namespace vmrt;

namespace {

// With an overlay asked for, which read-only and writable roots both take
// (planning compiles the seccomp filter: slow, so one call only).
void plan(const oci::Spec& spec) {
  try {
    agent::plan_container(spec, {"/bundle", "", true, "/state/c1", "c1"});
  } catch (const Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // plan_container warns about hooks and unknown system calls.
  spdlog::set_level(spdlog::level::off);
  std::string_view text(reinterpret_cast<const char*>(data), size);
  nlohmann::json j;
  try {
    j = parse_json_text(text, "config.json");
  } catch (const Error&) {
    return 0;
  }
  for (oci::Purpose purpose : {oci::Purpose::Create, oci::Purpose::Inspect}) {
    oci::Spec spec;
    try {
      spec = oci::parse_spec(j, purpose);
    } catch (const Error&) {
      continue;
    }
    oci::parse_spec(oci::to_json(spec), purpose, "to_json");  // must not throw
    if (purpose == oci::Purpose::Create) plan(spec);          // Create requires a process
  }
  return 0;
}
