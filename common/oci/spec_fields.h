#pragma once
// Internal to the spec model: which JSON key holds which field, written once
// so that reading (spec_read.cpp) and writing (spec_write.cpp) cannot drift
// apart. Each visit_fields calls the visitor as v.required(key, field) or
// v.optional(key, field); it takes T or const T, so the reader fills a spec
// and the writer walks a const one through the same list.

#include "common/json_fields.h"
#include "common/oci/spec.h"

namespace vmrt::oci {

using json_fields::Integer;
using json_fields::Is;
using json_fields::IsSpecialization;

void visit_fields(auto& v, Is<ConsoleSize> auto& c) {
  v.required("height", c.height);
  v.required("width", c.width);
}

void visit_fields(auto& v, Is<User> auto& u) {
  v.required("uid", u.uid);
  v.required("gid", u.gid);
  v.optional("umask", u.umask);
  v.optional("additionalGids", u.additional_gids);
}

void visit_fields(auto& v, Is<Capabilities> auto& c) {
  v.optional("bounding", c.bounding);
  v.optional("effective", c.effective);
  v.optional("inheritable", c.inheritable);
  v.optional("permitted", c.permitted);
  v.optional("ambient", c.ambient);
}

void visit_fields(auto& v, Is<Rlimit> auto& r) {
  v.required("type", r.type);
  v.required("hard", r.hard);
  v.required("soft", r.soft);
}

void visit_fields(auto& v, Is<Process> auto& p) {
  v.optional("terminal", p.terminal);
  v.optional("consoleSize", p.console_size);
  v.optional("user", p.user);
  v.optional("args", p.args);
  v.optional("env", p.env);
  v.required("cwd", p.cwd);
  v.optional("capabilities", p.capabilities);
  v.optional("rlimits", p.rlimits);
  v.optional("noNewPrivileges", p.no_new_privileges);
  v.optional("apparmorProfile", p.apparmor_profile);
  v.optional("oomScoreAdj", p.oom_score_adj);
  v.optional("selinuxLabel", p.selinux_label);
}

void visit_fields(auto& v, Is<Root> auto& r) {
  v.required("path", r.path);
  v.optional("readonly", r.readonly);
}

void visit_fields(auto& v, Is<IdMapping> auto& m) {
  v.required("containerID", m.container_id);
  v.required("hostID", m.host_id);
  v.required("size", m.size);
}

void visit_fields(auto& v, Is<Mount> auto& m) {
  v.required("destination", m.destination);
  v.optional("type", m.type);
  v.optional("source", m.source);
  v.optional("options", m.options);
  v.optional("uidMappings", m.uid_mappings);
  v.optional("gidMappings", m.gid_mappings);
}

void visit_fields(auto& v, Is<Hook> auto& h) {
  v.required("path", h.path);
  v.optional("args", h.args);
  v.optional("env", h.env);
  v.optional("timeout", h.timeout);
}

void visit_fields(auto& v, Is<Hooks> auto& h) {
  v.optional("prestart", h.prestart);
  v.optional("createRuntime", h.create_runtime);
  v.optional("createContainer", h.create_container);
  v.optional("startContainer", h.start_container);
  v.optional("poststart", h.poststart);
  v.optional("poststop", h.poststop);
}

void visit_fields(auto& v, Is<Namespace> auto& n) {
  v.required("type", n.type);
  v.optional("path", n.path);
}

void visit_fields(auto& v, Is<Device> auto& d) {
  v.required("type", d.type);
  v.required("path", d.path);
  v.optional("major", d.major);
  v.optional("minor", d.minor);
  v.optional("fileMode", d.file_mode);
  v.optional("uid", d.uid);
  v.optional("gid", d.gid);
}

void visit_fields(auto& v, Is<DeviceRule> auto& d) {
  v.required("allow", d.allow);
  v.optional("type", d.type);
  v.optional("major", d.major);
  v.optional("minor", d.minor);
  v.optional("access", d.access);
}

void visit_fields(auto& v, Is<Memory> auto& m) {
  v.optional("limit", m.limit);
  v.optional("reservation", m.reservation);
  v.optional("swap", m.swap);
  v.optional("kernel", m.kernel);
  v.optional("kernelTCP", m.kernel_tcp);
  v.optional("swappiness", m.swappiness);
  v.optional("disableOOMKiller", m.disable_oom_killer);
  v.optional("useHierarchy", m.use_hierarchy);
  v.optional("checkBeforeUpdate", m.check_before_update);
}

void visit_fields(auto& v, Is<Cpu> auto& c) {
  v.optional("shares", c.shares);
  v.optional("quota", c.quota);
  v.optional("burst", c.burst);
  v.optional("period", c.period);
  v.optional("realtimeRuntime", c.realtime_runtime);
  v.optional("realtimePeriod", c.realtime_period);
  v.optional("cpus", c.cpus);
  v.optional("mems", c.mems);
  v.optional("idle", c.idle);
}

void visit_fields(auto& v, Is<Pids> auto& p) { v.required("limit", p.limit); }

void visit_fields(auto& v, Is<WeightDevice> auto& d) {
  v.required("major", d.major);
  v.required("minor", d.minor);
  v.optional("weight", d.weight);
  v.optional("leafWeight", d.leaf_weight);
}

void visit_fields(auto& v, Is<ThrottleDevice> auto& d) {
  v.required("major", d.major);
  v.required("minor", d.minor);
  v.required("rate", d.rate);
}

void visit_fields(auto& v, Is<BlockIo> auto& b) {
  v.optional("weight", b.weight);
  v.optional("leafWeight", b.leaf_weight);
  v.optional("weightDevice", b.weight_device);
  v.optional("throttleReadBpsDevice", b.throttle_read_bps_device);
  v.optional("throttleWriteBpsDevice", b.throttle_write_bps_device);
  v.optional("throttleReadIOPSDevice", b.throttle_read_iops_device);
  v.optional("throttleWriteIOPSDevice", b.throttle_write_iops_device);
}

void visit_fields(auto& v, Is<HugepageLimit> auto& h) {
  v.required("pageSize", h.page_size);
  v.required("limit", h.limit);
}

void visit_fields(auto& v, Is<InterfacePriority> auto& p) {
  v.required("name", p.name);
  v.required("priority", p.priority);
}

void visit_fields(auto& v, Is<Network> auto& n) {
  v.optional("classID", n.class_id);
  v.optional("priorities", n.priorities);
}

void visit_fields(auto& v, Is<Resources> auto& r) {
  v.optional("devices", r.devices);
  v.optional("memory", r.memory);
  v.optional("cpu", r.cpu);
  v.optional("pids", r.pids);
  v.optional("blockIO", r.block_io);
  v.optional("hugepageLimits", r.hugepage_limits);
  v.optional("network", r.network);
  v.optional("unified", r.unified);
}

void visit_fields(auto& v, Is<SeccompArg> auto& a) {
  v.required("index", a.index);
  v.required("value", a.value);
  v.optional("valueTwo", a.value_two);
  v.required("op", a.op);
}

void visit_fields(auto& v, Is<Syscall> auto& s) {
  v.required("names", s.names);
  v.required("action", s.action);
  v.optional("errnoRet", s.errno_ret);
  v.optional("args", s.args);
}

void visit_fields(auto& v, Is<Seccomp> auto& s) {
  v.required("defaultAction", s.default_action);
  v.optional("defaultErrnoRet", s.default_errno_ret);
  v.optional("architectures", s.architectures);
  v.optional("flags", s.flags);
  v.optional("listenerPath", s.listener_path);
  v.optional("listenerMetadata", s.listener_metadata);
  v.optional("syscalls", s.syscalls);
}

void visit_fields(auto& v, Is<Personality> auto& p) {
  v.required("domain", p.domain);
  v.optional("flags", p.flags);
}

void visit_fields(auto& v, Is<Linux> auto& l) {
  v.optional("namespaces", l.namespaces);
  v.optional("uidMappings", l.uid_mappings);
  v.optional("gidMappings", l.gid_mappings);
  v.optional("devices", l.devices);
  v.optional("cgroupsPath", l.cgroups_path);
  v.optional("resources", l.resources);
  v.optional("sysctl", l.sysctl);
  v.optional("seccomp", l.seccomp);
  v.optional("rootfsPropagation", l.rootfs_propagation);
  v.optional("maskedPaths", l.masked_paths);
  v.optional("readonlyPaths", l.readonly_paths);
  v.optional("mountLabel", l.mount_label);
  v.optional("personality", l.personality);
}

void visit_fields(auto& v, Is<Spec> auto& s) {
  v.required("ociVersion", s.oci_version);
  v.optional("process", s.process);
  v.required("root", s.root);
  v.optional("hostname", s.hostname);
  v.optional("domainname", s.domainname);
  v.optional("mounts", s.mounts);
  v.optional("hooks", s.hooks);
  v.optional("annotations", s.annotations);
  v.optional("linux", s.linux);
}

}  // namespace vmrt::oci
