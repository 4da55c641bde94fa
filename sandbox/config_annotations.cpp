// The io.vmrt.config.* annotations of a sandbox's spec, under the operator's
// policy (the [annotations] table): a pod's spec is less trusted than the
// host's file, so what is not allowed is refused, never ignored or clamped,
// before anything of the sandbox exists. Which annotation changes which key,
// and how, is the field table's (config_fields.h).
#include <charconv>
#include <functional>

#include "common/error.h"
#include "sandbox/config.h"
#include "sandbox/config_fields.h"
#include "sandbox/config_rules.h"

namespace vmrt::sandbox {

namespace {

using namespace rules;
using fields::Info;
using fields::Limit;
using fields::Override;

// A decimal number without sign, spaces or suffix, within `r`.
int64_t annotation_integer(const std::string& name, const std::string& value, const Int& r) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  bool digits = !value.empty() && value[0] != '-';
  if (!digits || ec != std::errc() || end != value.data() + value.size() || v < r.min || v > r.max)
    fail("annotation {}: {}, got \"{}\"", name, expected(r), value);
  return v;
}

// `value` of annotation `name` within the operator's maximum `limit`.
template <typename T>
T at_most(const std::string& name, int64_t value, T limit, const Int& limit_key,
          const RuntimeConfig& c) {
  if (uint64_t(value) > uint64_t(limit))
    fail("annotation {}: {} is above the limit of {} ({} in {})", name, value, limit, limit_key.key,
         origin(c));
  return static_cast<T>(value);
}

// What one io.vmrt.config.<name> annotation does to the configuration being
// changed: `set` is given the annotation's full name and its value.
struct Handler {
  Override override;
  std::function<void(const std::string& name, const std::string& value)> set;
};

// The annotations of the field table, each bound to its member of `c`.
struct Handlers {
  RuntimeConfig& c;
  std::map<std::string, Handler, std::less<>> by_name;

  void operator()(const auto& rule, auto& member, Info info, Limit limit = {}) {
    if (info.override == Override::None) return;
    by_name[info.name] = {info.override, [this, &rule, &member, limit](const std::string& name,
                                                                       const std::string& value) {
                            this->set(rule, member, limit, name, value);
                          }};
  }

  void set(const Int& r, auto& member, Limit limit, const std::string& name,
           const std::string& value) {
    int64_t v = annotation_integer(name, value, r);
    if (limit.rule) v = at_most(name, v, limit.value, *limit.rule, c);
    fields::set_int(member, v);
  }
  void set(const Enum& e, std::string& member, Limit, const std::string& name,
           const std::string& value) {
    if (!in(e, value)) fail("annotation {}: {}, got \"{}\"", name, expected(e), value);
    member = value;
  }
  // Added to the host's parameters, which the pod must not be able to drop.
  void set(const Params&, std::string& member, Limit, const std::string& name,
           const std::string& value) {
    if (!c.annotations.kernel_params)
      fail(
          "annotation {}: not allowed: guest kernel parameters from a pod need "
          "{} = true in {}",
          name, kAnnotationKernelParams.key, origin(c));
    if (!printable(value)) fail("annotation {}: {}", name, kExpectedParams);
    if (!value.empty()) member = member.empty() ? value : member + " " + value;
  }
  // A rule no annotation setter is written for: refused, so that marking
  // such a key Allowed in the table fails closed rather than doing nothing.
  void set(const auto& rule, auto&, Limit, const std::string& name, const std::string&) {
    fail("annotation {}: only the runtime configuration file sets {}", name, rule.key);
  }
};

}  // namespace

RuntimeConfig apply_annotations(RuntimeConfig c,
                                const std::map<std::string, std::string>& annotations) {
  const std::string_view prefix = kAnnotationPrefix;
  const AnnotationPolicy& policy = c.annotations;
  Handlers handlers{c, {}};
  fields::visit_fields(handlers, c);
  for (const auto& [name, value] : annotations) {
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    std::string key = name.substr(prefix.size());
    auto it = handlers.by_name.find(key);
    if (it == handlers.by_name.end())
      fail(
          "annotation {}: unknown key \"{}\" (known: vcpus, memory_mib, kernel_params, "
          "fs_cache, boot_timeout_s)",
          name, key);
    const Handler& h = it->second;
    if (h.override == Override::FileOnly)
      fail("annotation {}: only the runtime configuration file sets {}", name, key);
    if (h.override == Override::Allowed && !policy.allowed.count(key))
      fail("annotation {}: not allowed by {} ({} = [{}])", name, origin(c), kAllowable.key,
           fmt::join(policy.allowed, ", "));
    h.set(name, value);
  }
  return c;
}

RuntimeConfig sandbox_config(const std::filesystem::path& path,
                             const std::map<std::string, std::string>& annotations) {
  RuntimeConfig c = apply_annotations(load_runtime_config(path), annotations);
  validate(c);
  return c;
}

}  // namespace vmrt::sandbox
