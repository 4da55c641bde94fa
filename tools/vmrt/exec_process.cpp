#include "tools/vmrt/exec_process.h"

#include <fstream>
#include <iterator>
#include <random>

#include "common/error.h"
#include "common/json_text.h"

namespace vmrt::cli {
namespace {

uint32_t parse_id(const std::string& text, const std::string& what) {
  size_t used = 0;
  unsigned long v = 0;
  try {
    v = std::stoul(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || v > 0xffffffffUL)
    fail("{} {}: expected a numeric id (names cannot be resolved outside the container)", what,
         text);
  return static_cast<uint32_t>(v);
}

// Validates a process object the way config.json's is validated, by
// reading it as the process of a minimal spec.
oci::Process parse_process(const nlohmann::json& process, const std::string& source) {
  nlohmann::json spec = {
      {"ociVersion", "1.0.2"}, {"root", {{"path", "rootfs"}}}, {"process", process}};
  return *oci::parse_spec(spec, oci::Purpose::Create, source).process;
}

nlohmann::json process_json(const oci::Process& p) {
  oci::Spec s;
  s.oci_version = "1.0.2";
  s.root.path = "rootfs";
  s.process = p;
  return oci::to_json(s)["process"];
}

void set_env(oci::Strings& env, const std::string& kv) {
  std::string name = kv.substr(0, kv.find('='));
  for (auto& e : env)
    if (e.substr(0, e.find('=')) == name) {
      e = kv;
      return;
    }
  env.push_back(kv);
}

}  // namespace

nlohmann::json exec_process_file(std::string_view text, const std::string& source, bool tty) {
  oci::Process p = parse_process(parse_json_text(text, source), source);
  if (p.args.empty()) fail("{}: args: must name the program to run", source);
  if (tty) p.terminal = true;
  return process_json(p);
}

nlohmann::json exec_process(const ExecArgs& a, const oci::Spec& container_spec) {
  if (!a.process_file.empty()) {
    std::ifstream in(a.process_file);
    if (!in) fail("--process {}: cannot read the file", a.process_file);
    std::string text(std::istreambuf_iterator<char>(in), {});
    return exec_process_file(text, "--process " + a.process_file, a.tty);
  }
  if (a.args.empty()) fail("exec: no command given (vmrt exec ID COMMAND [ARG...])");
  oci::Process p = container_spec.process.value_or(oci::Process{});
  p.args = a.args;
  p.terminal = a.tty;
  p.console_size.reset();
  for (const auto& kv : a.env) {
    if (kv.find('=') == std::string::npos || kv.front() == '=')
      fail("--env {}: expected NAME=VALUE", kv);
    set_env(p.env, kv);
  }
  if (!a.cwd.empty()) p.cwd = a.cwd;
  if (p.cwd.empty()) p.cwd = "/";
  if (!a.user.empty()) {
    auto colon = a.user.find(':');
    p.user.uid = parse_id(a.user.substr(0, colon), "--user");
    if (colon != std::string::npos) p.user.gid = parse_id(a.user.substr(colon + 1), "--user");
  }
  for (const auto& g : a.additional_gids)
    p.user.additional_gids.push_back(parse_id(g, "--additional-gids"));
  for (const auto& cap : a.caps)
    for (auto* set :
         {&p.capabilities.bounding, &p.capabilities.effective, &p.capabilities.permitted})
      set->push_back(cap);
  if (a.no_new_privs) p.no_new_privileges = true;
  return process_json(parse_process(process_json(p), "exec flags"));
}

std::string new_exec_id() {
  std::random_device rd;
  uint64_t v = (uint64_t{rd()} << 32) | rd();
  return fmt::format("exec-{:016x}", v);
}

}  // namespace vmrt::cli
