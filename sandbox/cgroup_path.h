#pragma once
// Where an OCI spec's linux.cgroupsPath puts a container, as a path below
// a cgroup hierarchy's root, read the way runc reads it: the cgroupfs form
// "/kubepods/burstable/pod<uid>/<id>" as it stands, the systemd form
// "<slice>:<prefix>:<name>" (what a systemd cgroup driver passes, e.g.
// "kubepods-burstable-pod<uid>.slice:cri-containerd:<id>") as the path
// systemd gives that unit: the slice's parents, then "<prefix>-<name>.scope".

#include <filesystem>
#include <string>

namespace vmrt::sandbox {

// The cgroup `cgroups_path` names, relative ("kubepods/burstable/pod1/abc").
// A relative cgroupfs form is taken below the root as well. Throws
// vmrt::Error naming the value when it is empty, has a "." or ".." step or
// an empty one, a control character, a step longer than a file name may be
// or is longer than a path may be, or is a malformed systemd form.
std::filesystem::path cgroup_of_cgroups_path(const std::string& cgroups_path);

// A systemd slice's cgroup: "a-b.slice" -> "a.slice/a-b.slice"; "-.slice"
// is the root (""). Throws vmrt::Error for a name systemd refuses ("a--b.slice",
// "-a.slice", no ".slice" suffix, a '/').
std::filesystem::path expand_slice(const std::string& slice);

}  // namespace vmrt::sandbox
