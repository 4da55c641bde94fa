#include "shim/shim_args.h"

#include <map>
#include <optional>

#include "common/error.h"

namespace vmrt::shim {

ShimArgs parse_shim_args(const std::vector<std::string>& args) {
  ShimArgs a;
  const std::map<std::string, std::string*> values = {
      {"namespace", &a.namespace_},
      {"address", &a.address},
      {"publish-binary", &a.publish_binary},
      {"id", &a.id},
      {"bundle", &a.bundle},
  };
  const std::map<std::string, bool*> switches = {{"debug", &a.debug}, {"v", &a.version}};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') {
      if (!a.action.empty()) fail("unexpected argument {} after the action {}", arg, a.action);
      if (arg != "start" && arg != "delete")
        fail("unknown action {} (the shim knows start and delete)", arg);
      a.action = arg;
      continue;
    }
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (auto s = switches.find(name); s != switches.end()) {
      *s->second = !value || *value == "true" || *value == "1";
      continue;
    }
    auto v = values.find(name);
    if (v == values.end()) fail("unknown flag -{}", name);
    if (!value) {
      if (i + 1 >= args.size()) fail("flag -{} needs a value", name);
      value = args[++i];
    }
    *v->second = *value;
  }
  return a;
}

std::vector<std::string> serve_args(const ShimArgs& a) {
  std::vector<std::string> out = {"-namespace",      a.namespace_,     "-address", a.address,
                                  "-publish-binary", a.publish_binary, "-id",      a.id};
  if (!a.bundle.empty()) out.insert(out.end(), {"-bundle", a.bundle});
  if (a.debug) out.push_back("-debug");
  return out;
}

}  // namespace vmrt::shim
