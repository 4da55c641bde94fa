#pragma once
// The filesystems a guest PID 1 must mount before anything else works: the
// kernel hands init an initramfs and nothing more.

namespace vmrt::agent::init {

// Mounts proc, sysfs, devtmpfs on /dev, devpts, /dev/shm, cgroup2 with every
// available controller enabled for children, and tmpfs on /run. A target
// already mounted (EBUSY) is kept. Throws vmrt::Error naming the mount.
void mount_guest_filesystems();

// Makes /dev/console the standard streams when the kernel started init
// without them (an initramfs without a /dev/console node), so that the log
// reaches the serial console.
void attach_console();

}  // namespace vmrt::agent::init
