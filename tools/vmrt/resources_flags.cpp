#include "tools/vmrt/resources_flags.h"

#include <cctype>
#include <fstream>
#include <iostream>
#include <iterator>

#include "common/error.h"
#include "common/json_text.h"

namespace vmrt::cli {
namespace {

int64_t parse_int(const std::string& text, const std::string& flag) {
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) fail("{} {}: not a number", flag, text);
  return v;
}

nlohmann::json read_resources(const std::string& source) {
  std::string text;
  if (source == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else {
    std::ifstream in(source);
    if (!in) fail("--resources {}: cannot read the file", source);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  nlohmann::json j = parse_json_text(text, "--resources " + source);
  if (!j.is_object()) fail("--resources {}: expected a JSON object (linux.resources)", source);
  return j;
}

}  // namespace

int64_t parse_bytes(const std::string& text, const std::string& flag) {
  if (text == "-1") return -1;
  std::string digits = text;
  int64_t unit = 1;
  if (!digits.empty() && std::isalpha(static_cast<unsigned char>(digits.back()))) {
    char u = static_cast<char>(std::tolower(static_cast<unsigned char>(digits.back())));
    digits.pop_back();
    if (!digits.empty() && u == 'b' && std::isalpha(static_cast<unsigned char>(digits.back()))) {
      u = static_cast<char>(std::tolower(static_cast<unsigned char>(digits.back())));
      digits.pop_back();
    }
    switch (u) {
      case 'b':
        unit = 1;
        break;
      case 'k':
        unit = int64_t{1} << 10;
        break;
      case 'm':
        unit = int64_t{1} << 20;
        break;
      case 'g':
        unit = int64_t{1} << 30;
        break;
      case 't':
        unit = int64_t{1} << 40;
        break;
      default:
        fail("{} {}: unknown size unit", flag, text);
    }
  }
  int64_t v = parse_int(digits, flag);
  if (v < 0) fail("{} {}: must not be negative (or -1 for no limit)", flag, text);
  return v * unit;
}

nlohmann::json resources_from_flags(const UpdateArgs& a) {
  nlohmann::json r = a.resources.empty() ? nlohmann::json::object() : read_resources(a.resources);
  if (a.memory) r["memory"]["limit"] = parse_bytes(*a.memory, "--memory");
  if (a.memory_swap) r["memory"]["swap"] = parse_bytes(*a.memory_swap, "--memory-swap");
  if (a.cpu_quota) r["cpu"]["quota"] = parse_int(*a.cpu_quota, "--cpu-quota");
  if (a.cpu_period) r["cpu"]["period"] = parse_int(*a.cpu_period, "--cpu-period");
  if (a.cpu_shares) r["cpu"]["shares"] = parse_int(*a.cpu_shares, "--cpu-share");
  if (a.cpuset_cpus) r["cpu"]["cpus"] = *a.cpuset_cpus;
  if (a.cpuset_mems) r["cpu"]["mems"] = *a.cpuset_mems;
  if (a.pids_limit) r["pids"]["limit"] = parse_int(*a.pids_limit, "--pids-limit");
  if (r.empty()) fail("nothing to update: give --resources or a resource flag such as --memory");
  return r;
}

}  // namespace vmrt::cli
