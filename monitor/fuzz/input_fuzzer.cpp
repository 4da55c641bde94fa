// libFuzzer target: what vmrt-monitor reads from others. The first byte
// picks the reader, the rest is its input:
//   0: an HTTP request head from any local client (answer_request);
//   1: a VMM control socket reply (a VMM a guest may have taken over), as
//      info, counters and start times all at once;
//   2: /proc/PID/smaps_rollup text; 3: /proc/PID/stat text;
//   4: a guest agent's ttrpc Response payload to SandboxStats (a guest's
//      tenant may control the agent).
// Readers return or throw vmrt::Error, nothing else; the page they make is
// always well-formed: every line a # HELP, a # TYPE or one sample whose
// label values hold no raw newline or unescaped quote.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/error.h"
#include "monitor/agent_metrics.h"
#include "monitor/agent_query.h"
#include "monitor/http_server.h"
#include "monitor/process_figures.h"
#include "monitor/vm_metrics.h"

using namespace vmrt;
using namespace vmrt::monitor;

namespace {

void check_page(const std::string& page) {
  size_t at = 0;
  while (at < page.size()) {
    size_t nl = page.find('\n', at);
    if (nl == std::string::npos) __builtin_trap();  // every line ends
    std::string_view line(page.data() + at, nl - at);
    at = nl + 1;
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) continue;
    // name{sandbox="fuzz"...} value: the labels open with our sandbox, and
    // the quotes inside balance once escapes are skipped.
    size_t brace = line.find('{');
    if (brace == std::string_view::npos) __builtin_trap();
    if (!line.substr(brace).starts_with("{sandbox=\"fuzz\"")) __builtin_trap();
    bool quoted = false;
    size_t end = std::string_view::npos;
    for (size_t i = brace; i < line.size(); ++i) {
      if (quoted && line[i] == '\\') {
        ++i;
      } else if (line[i] == '"') {
        quoted = !quoted;
      } else if (!quoted && line[i] == '}') {
        end = i;
        break;
      }
    }
    if (end == std::string_view::npos || line.size() < end + 3 || line[end + 1] != ' ')
      __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 5) {
      case 0: {
        HttpAnswer a = answer_request(text, [] { return std::string("up 1\n"); });
        if (a.status != 200 && a.status != 400 && a.status != 404 && a.status != 405)
          __builtin_trap();
        render_response(a);
        break;
      }
      case 1: {
        nlohmann::json reply = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
        MetricSet m;
        add_info_metrics(m, "fuzz", reply);
        add_counter_metrics(m, "fuzz", reply);
        add_start_metrics(m, "fuzz", reply);
        check_page(m.text());
        break;
      }
      case 2:
        parse_smaps_rollup(text);
        break;
      case 3:
        parse_proc_stat(text);
        break;
      case 4:
        if (auto stats = decode_sandbox_stats(text)) {
          MetricSet m;
          add_agent_metrics(m, "fuzz", *stats);
          check_page(m.text());
        }
        break;
    }
  } catch (const Error&) {
  }
  return 0;
}
