#include "agent/service/request_parse.h"

#include <nlohmann/json.hpp>

#include "agent/service/request_error.h"
#include "common/json_text.h"

namespace vmrt::agent {
namespace {

using nlohmann::json;
constexpr auto kInvalid = Code::InvalidArgument;

json parse_json(std::string_view field, std::string_view text) {
  if (text.empty()) reject(kInvalid, "{}: empty", field);
  try {
    return parse_json_text(text, std::string(field));
  } catch (const Error& e) {
    throw RequestError(kInvalid, e.what());
  }
}

// Runs the spec model's reader on `j`, naming `field` as the source so that
// its messages read "oci_spec_json: process.args: ...".
oci::Spec parse_as_spec(const json& j, std::string_view field) {
  try {
    return oci::parse_spec(j, oci::Purpose::Create, std::string(field));
  } catch (const Error& e) {
    throw RequestError(kInvalid, e.what());
  }
}

// A spec wrapped around one part, to read that part with the same rules as
// a whole config.json.
json wrap(const char* key, json part) {
  return json{{"ociVersion", "1.0.2"}, {"root", {{"path", "rootfs"}}}, {key, std::move(part)}};
}

bool allowed_id_char(char c, bool first) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return !first && (c == '_' || c == '.' || c == '-');
}

void check_conf_word(const char* what, const std::string& word) {
  if (word.empty()) reject(kInvalid, "{}: empty entry", what);
  for (char c : word)
    if (c == '\n' || c == '\r' || c == ' ' || c == '\t' || c == '\0')
      reject(kInvalid, "{}: \"{}\" holds whitespace or a control character", what, word);
}

}  // namespace

void check_id(std::string_view field, const std::string& id) {
  if (id.empty()) reject(kInvalid, "{}: empty", field);
  if (id.size() > 128) reject(kInvalid, "{}: longer than 128 characters", field);
  for (size_t i = 0; i < id.size(); ++i)
    if (!allowed_id_char(id[i], i == 0))
      reject(kInvalid, "{} \"{}\": only letters, digits, '_', '.' and '-' (not first) are allowed",
             field, id);
}

std::filesystem::path resolve_in_share(const std::filesystem::path& shared,
                                       const std::string& rel) {
  if (rel.empty()) reject(kInvalid, "rootfs: empty");
  if (rel.find('\0') != std::string::npos) reject(kInvalid, "rootfs: holds a NUL byte");
  std::filesystem::path p(rel);
  if (p.is_absolute())
    reject(kInvalid, "rootfs \"{}\": must be relative to the shared filesystem", rel);
  for (const auto& part : p)
    if (part == "..")
      reject(kInvalid, "rootfs \"{}\": \"..\" would leave the shared filesystem", rel);
  return (shared / p).lexically_normal();
}

oci::Spec parse_container_spec(std::string_view json_text) {
  return parse_as_spec(parse_json("oci_spec_json", json_text), "oci_spec_json");
}

oci::Process parse_exec_process(std::string_view json_text) {
  json j = parse_json("oci_process_json", json_text);
  return *parse_as_spec(wrap("process", std::move(j)), "oci_process_json").process;
}

oci::Resources parse_resources(std::string_view json_text) {
  json j = parse_json("resources_json", json_text);
  json spec = wrap("process", {{"args", {"true"}}, {"cwd", "/"}});
  spec["linux"] = {{"resources", std::move(j)}};
  oci::Spec s = parse_as_spec(spec, "resources_json");
  return s.linux.resources.value_or(oci::Resources{});
}

int check_signal(uint32_t signal) {
  if (signal < 1 || signal > 64) reject(kInvalid, "signal {}: must be 1 to 64", signal);
  return static_cast<int>(signal);
}

void check_hostname(const std::string& hostname) {
  if (hostname.empty() || hostname.size() > 64)
    reject(kInvalid, "hostname \"{}\": must be 1 to 64 characters", hostname);
  for (char c : hostname)
    if (!allowed_id_char(c, false) || c == '_')
      reject(kInvalid, "hostname \"{}\": only letters, digits, '-' and '.' are allowed", hostname);
}

std::string resolv_conf(const std::vector<std::string>& servers,
                        const std::vector<std::string>& searches,
                        const std::vector<std::string>& options) {
  std::string text;
  for (const auto& s : servers) {
    check_conf_word("dns_servers", s);
    text += "nameserver " + s + "\n";
  }
  // One line holding every word, as resolv.conf(5) wants search and options.
  auto line = [&](const char* keyword, const char* field, const std::vector<std::string>& words) {
    if (words.empty()) return;
    text += keyword;
    for (const auto& w : words) {
      check_conf_word(field, w);
      text += " " + w;
    }
    text += "\n";
  };
  line("search", "dns_searches", searches);
  line("options", "dns_options", options);
  return text;
}

}  // namespace vmrt::agent
