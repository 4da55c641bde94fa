// libFuzzer target: the runtime configuration as the CLI and the shim read
// it. The input is read once as the TOML file, and once as annotations, one
// "name=value" per line, applied over the file's values as a pod spec's
// io.vmrt.config.* annotations are (those come from the pod, the least
// trusted party), under the file's policy and under one allowing them all.
// validate() only looks at the files the paths name. Each step returns or
// throws vmrt::Error; anything else is a finding.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/error.h"
#include "sandbox/config.h"
#include "sandbox/config_rules.h"

using namespace vmrt;
using namespace vmrt::sandbox;

namespace {

std::map<std::string, std::string> annotations(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    std::string_view line = text.substr(0, text.find('\n'));
    text.remove_prefix(std::min(text.size(), line.size() + 1));
    size_t eq = line.find('=');
    out[std::string(line.substr(0, eq))] =
        eq == std::string_view::npos ? "" : std::string(line.substr(eq + 1));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  RuntimeConfig config = default_config();
  try {
    config = parse_config(text, "config.toml");
    to_json(config).dump();
    validate(config);
  } catch (const Error&) {
  }
  // Under the file's policy, then under one that allows every annotation,
  // so that the value parsers are reached whatever the file says.
  RuntimeConfig open = config;
  const auto& allowable = rules::kAllowable.names;
  open.annotations.allowed = {allowable.begin(), allowable.end()};
  open.annotations.kernel_params = true;
  for (const RuntimeConfig* base : {&config, &open}) {
    try {
      validate(apply_annotations(*base, annotations(text)));
    } catch (const Error&) {
    }
  }
  return 0;
}
