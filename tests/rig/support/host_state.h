#pragma once
// What rig tests look at on the machine around the system under test: the
// processes and mounts a container may leave behind, and busybox root
// filesystems to run containers from.

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace vmrt::test {

// The whole file, or "" when it cannot be read (a process that went away).
std::string read_text(const std::filesystem::path& path);

// Every process whose command line starts with `program_suffix` (e.g.
// "/vmrt-vmm"; "" for all of them), as "pid cmdline" with the arguments
// separated and followed by a space.
std::vector<std::string> processes_named(const std::string& program_suffix);

// The running VMMs (each VM's one vmrt-vmm), as processes_named does: not
// their virtio-fs file servers, which are forked VMMs with the same command
// line but their own name.
std::vector<std::string> vmm_processes();

// The process ids of `pid`'s children, grandchildren and so on.
std::vector<int> descendants(int pid);

// The mountinfo lines of mounts whose mount point is `dir` or below it, in
// mount order (a mount stacked on another comes after it).
std::vector<std::string> mounts_under(const std::filesystem::path& dir);
// The mount point field of a mountinfo line.
std::string mount_point(const std::string& mountinfo_line);

// The VMM and shim cgroups that exist, anywhere below the cgroup root
// (<cgroup_parent>/vmm-*, a pod's <cgroupsPath>/vmm and /shim): each
// removed with its sandbox.
std::vector<std::string> vmm_cgroups();

// Calls `list` until it returns nothing or `timeout` passes, and returns
// its last answer: processes take a moment to be reaped and mounts to go
// after a container is deleted.
std::vector<std::string> settled(const std::function<std::vector<std::string>()>& list,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Fills `rootfs` with /bin/busybox and /bin links for the applets the tests
// run (sh, cat, sleep, stty ...).
void make_busybox_rootfs(const std::filesystem::path& rootfs);

// Whether this process runs chrooted: the rig runs the host's root as a
// chroot of L1's initramfs (which cannot be pivoted away from). There runc
// exec joins the container's mount namespace but lands at its root, L1's
// initramfs, not the container's: checks of files through a runc exec do
// not hold in the rig. (vmrt's agent takes the init's root instead.)
bool in_a_chroot();

}  // namespace vmrt::test
