// Spec -> config.json, for the bundles the CLI and the tests write and the
// spec the shim hands to the agent. Round-trips everything parse_spec reads.
#include "common/oci/spec.h"

namespace vmrt::oci {

namespace {

using nlohmann::json;

json hooks_json(const std::vector<Hook>& hooks) {
  json out = json::array();
  for (const Hook& h : hooks) {
    json e{{"path", h.path}};
    if (!h.args.empty()) e["args"] = h.args;
    if (!h.env.empty()) e["env"] = h.env;
    if (h.timeout) e["timeout"] = *h.timeout;
    out.push_back(e);
  }
  return out;
}

json id_mappings_json(const std::vector<IdMapping>& maps) {
  json out = json::array();
  for (const IdMapping& m : maps)
    out.push_back({{"containerID", m.container_id}, {"hostID", m.host_id}, {"size", m.size}});
  return out;
}

json process_json(const Process& p) {
  json user{{"uid", p.user.uid}, {"gid", p.user.gid}};
  if (p.user.umask) user["umask"] = *p.user.umask;
  if (!p.user.additional_gids.empty()) user["additionalGids"] = p.user.additional_gids;
  json out{{"terminal", p.terminal}, {"user", user}, {"args", p.args},
           {"env", p.env},           {"cwd", p.cwd}, {"noNewPrivileges", p.no_new_privileges}};
  const Capabilities& c = p.capabilities;
  out["capabilities"] = {{"bounding", c.bounding},
                         {"effective", c.effective},
                         {"inheritable", c.inheritable},
                         {"permitted", c.permitted},
                         {"ambient", c.ambient}};
  json rlimits = json::array();
  for (const Rlimit& r : p.rlimits)
    rlimits.push_back({{"type", r.type}, {"hard", r.hard}, {"soft", r.soft}});
  out["rlimits"] = rlimits;
  if (p.oom_score_adj) out["oomScoreAdj"] = *p.oom_score_adj;
  if (!p.apparmor_profile.empty()) out["apparmorProfile"] = p.apparmor_profile;
  if (!p.selinux_label.empty()) out["selinuxLabel"] = p.selinux_label;
  return out;
}

json linux_json(const Linux& l) {
  json ns = json::array();
  for (const Namespace& n : l.namespaces) {
    json e{{"type", n.type}};
    if (!n.path.empty()) e["path"] = n.path;
    ns.push_back(e);
  }
  json out{
      {"namespaces", ns}, {"maskedPaths", l.masked_paths}, {"readonlyPaths", l.readonly_paths}};
  if (!l.uid_mappings.empty()) out["uidMappings"] = id_mappings_json(l.uid_mappings);
  if (!l.gid_mappings.empty()) out["gidMappings"] = id_mappings_json(l.gid_mappings);
  if (!l.cgroups_path.empty()) out["cgroupsPath"] = l.cgroups_path;
  if (!l.resources.is_null()) out["resources"] = l.resources;
  if (!l.seccomp.is_null()) out["seccomp"] = l.seccomp;
  if (!l.devices.is_null()) out["devices"] = l.devices;
  if (!l.sysctl.empty()) out["sysctl"] = l.sysctl;
  if (!l.rootfs_propagation.empty()) out["rootfsPropagation"] = l.rootfs_propagation;
  if (!l.mount_label.empty()) out["mountLabel"] = l.mount_label;
  return out;
}

}  // namespace

nlohmann::json to_json(const Spec& s) {
  json out{{"ociVersion", s.oci_version},
           {"root", {{"path", s.root.path}, {"readonly", s.root.readonly}}}};
  if (s.has_process) out["process"] = process_json(s.process);
  if (!s.hostname.empty()) out["hostname"] = s.hostname;
  if (!s.domainname.empty()) out["domainname"] = s.domainname;
  json mounts = json::array();
  for (const Mount& m : s.mounts) {
    json e{{"destination", m.destination}};
    if (!m.type.empty()) e["type"] = m.type;
    if (!m.source.empty()) e["source"] = m.source;
    if (!m.options.empty()) e["options"] = m.options;
    mounts.push_back(e);
  }
  out["mounts"] = mounts;
  const Hooks& h = s.hooks;
  out["hooks"] = {{"prestart", hooks_json(h.prestart)},
                  {"createRuntime", hooks_json(h.create_runtime)},
                  {"createContainer", hooks_json(h.create_container)},
                  {"startContainer", hooks_json(h.start_container)},
                  {"poststart", hooks_json(h.poststart)},
                  {"poststop", hooks_json(h.poststop)}};
  if (!s.annotations.empty()) out["annotations"] = s.annotations;
  out["linux"] = linux_json(s.linux);
  return out;
}

}  // namespace vmrt::oci
