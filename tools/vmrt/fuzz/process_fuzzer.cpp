// libFuzzer target: the process.json of `vmrt exec --process FILE`, read and
// checked as the process of a config.json, then written as the JSON the
// agent gets. It must return that JSON or throw vmrt::Error; the agent must
// accept what it returns.
#include <cstdint>
#include <string_view>

#include "agent/service/request_parse.h"
#include "common/error.h"
#include "tools/vmrt/exec_process.h"

using namespace vmrt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  nlohmann::json process;
  try {
    process = cli::exec_process_file(text, "--process process.json", false);
  } catch (const Error&) {
    return 0;
  }
  agent::parse_exec_process(process.dump());  // must not throw
  return 0;
}
