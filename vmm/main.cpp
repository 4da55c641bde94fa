// vmrt-vmm: boots one micro-VM and runs it until the guest or the host ends it.
// Exit status: common/vmm_exit_status.h.
#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <optional>

#include "common/error.h"
#include "common/event_loop.h"
#include "common/fd.h"
#include "common/log.h"
#include "common/vmm_exit_status.h"
#include "vmm/config/vmm_config.h"
#include "vmm/control/control_server.h"
#include "vmm/devices/fs/fs_device.h"
#include "vmm/devices/mem/mem_device.h"
#include "vmm/devices/net/net_device.h"
#include "vmm/devices/serial/console_output.h"
#include "vmm/devices/vsock/vsock_device.h"
#include "vmm/kvm/kvm.h"
#include "vmm/machine/kernel_boot.h"
#include "vmm/machine/machine.h"
#include "vmm/machine/virtio_slots.h"
#include "vmm/machine/vm_snapshot.h"
#include "vmm/security/confine.h"
#include "vmm/security/jail.h"
#include "vmm/security/privileges.h"

namespace vmrt::vmm {
namespace {

// Where the guest console goes. A regular file is truncated; a FIFO or
// character device is opened for writing as is.
UniqueFd open_console(const std::string& spec) {
  if (spec == "stdout")
    return UniqueFd(check_sys(fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0), "dup stdout"));
  if (spec == "none") return {};
  struct stat st;
  int flags = O_WRONLY | O_CLOEXEC | O_NOCTTY;
  if (stat(spec.c_str(), &st) != 0 || S_ISREG(st.st_mode)) flags |= O_CREAT | O_TRUNC;
  int fd = open(spec.c_str(), flags, 0640);
  if (fd < 0) throw_errno("cannot open console output " + spec);
  return UniqueFd(fd);
}

sigset_t stop_signals() {
  sigset_t sigs;
  sigemptyset(&sigs);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&sigs, s);
  return sigs;
}

// The virtio-fs device, made before the VMM enters its jail: its file server
// process is forked here (the VMM has no thread yet) and confines itself in
// a jail holding only the shared directory, keeping the file capabilities
// that the VMM then drops.
std::shared_ptr<fs::FsDevice> make_fs_device(const VmmConfig& config) {
  if (config.fs_dir.empty()) return nullptr;
  fs::FsConfig fc;
  fc.tag = config.fs_tag;
  fc.server.shared_dir = config.fs_dir;
  fc.server.cache = *fuse::parse_cache_mode(config.fs_cache);
  // A restored VM's RAM is a private mapping the file server process cannot
  // share, and a virtio-mem region is not shared with it either (its
  // unplugged blocks must stay out of the server's reach): the requests of
  // such a VM go through the VMM's relay, which reads guest buffers wherever
  // they are plugged.
  fc.relay = !config.restore.empty() || config.hotplug_mib > 0;
  security::SeccompMode mode = *security::parse_seccomp_mode(config.seccomp);
  fc.confine_server = [config, mode] {
    if (!config.jail.empty()) {
      security::enter_jail(security::plan_file_server_jail(config));
      security::drop_privileges({.uid = static_cast<uid_t>(config.jail_uid),
                                 .gid = static_cast<gid_t>(config.jail_gid),
                                 .file_server = true});
    }
    security::confine_thread(security::ThreadRole::FileServer, mode);
  };
  return std::make_shared<fs::FsDevice>(std::move(fc));
}

// A restore that failed on the snapshot itself, not on the host or the
// guest: the VMM exits with vmm_exit::kSnapshotUnusable, so that whoever
// made the snapshot (a VM template) knows to make it again.
class SnapshotUnusable : public Error {
 public:
  using Error::Error;
};

template <typename Step>
auto from_snapshot(Step&& step) -> decltype(step()) {
  try {
    return step();
  } catch (const std::exception& e) {
    throw SnapshotUnusable(e.what());
  }
}

// Snapshot files opened before the VMM confines itself: the one it restores
// from (--restore), the one it writes on command (--snapshot-dir).
struct Snapshots {
  std::optional<SnapshotSource> source;
  std::optional<SnapshotFiles> target;
};

int run(const VmmConfig& config, std::shared_ptr<fs::FsDevice> fs_device, Snapshots snapshots) {
  std::shared_ptr<ConsoleOutput> console;
  if (UniqueFd fd = open_console(config.console)) {
    // A file fills a disk; a FIFO or terminal is someone's to drain.
    struct stat st;
    bool file = fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode);
    console = std::make_shared<ConsoleOutput>(
        std::move(fd), file ? ConsoleOutput::kFileLimit : ConsoleOutput::kUnlimited);
  }
  MachineConfig mc;
  mc.mem_bytes = config.mem_mib << 20;
  mc.cpus = config.cpus;
  mc.max_cpus = config.max_cpus;
  mc.hugepages = config.hugepages;
  mc.seccomp = *security::parse_seccomp_mode(config.seccomp);
  if (console) mc.console = [console](std::span<const uint8_t> b) { console->write(b); };

  // Stop signals were blocked first thing in main(); one that arrived during
  // setup is still pending and read from here.
  sigset_t sigs = stop_signals();
  UniqueFd sigfd(check_sys(signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK), "signalfd"));

  // What takes privileges to open or create comes first: a jailed VMM
  // drops them before it starts its first thread (the machine's).
  std::vector<std::shared_ptr<virtio::VirtioDevice>> devices;
  DeviceCounterSources counted;  // for the control socket
  if (!config.vsock_socket.empty()) {
    auto vsock = std::make_shared<vsock::VsockDevice>(
        vsock::VsockConfig{config.vsock_cid, config.vsock_socket});
    counted.vsock = vsock;
    devices.push_back(std::move(vsock));
  }
  std::shared_ptr<fs::FsDevice> fs = fs_device;
  counted.fs = fs;
  if (fs_device) devices.push_back(std::move(fs_device));
  if (!config.net_tap.empty() || config.net_tap_fd >= 0) {
    net::NetConfig nc;
    nc.tap = config.net_tap.empty() ? net::adopt_tap(UniqueFd(config.net_tap_fd))
                                    : net::open_tap(config.net_tap);
    nc.mac = config.net_mac.empty() ? net::random_local_mac() : *net::parse_mac(config.net_mac);
    SPDLOG_INFO("virtio-net tap={} mac={}", nc.tap.name, net::format_mac(nc.mac));
    auto net = std::make_shared<net::NetDevice>(std::move(nc));
    counted.net = net;
    devices.push_back(std::move(net));
  }
  std::optional<ControlSocket> control_socket;
  if (!config.control_socket.empty()) control_socket.emplace(config.control_socket);
  UniqueFd kvm_fd;
  if (!config.jail.empty()) {
    kvm_fd = UniqueFd(::open(mc.kvm_path.c_str(), O_RDWR | O_CLOEXEC));
    if (!kvm_fd) throw_errno("cannot open " + mc.kvm_path);
    mc.kvm_fd = kvm_fd.get();
    security::drop_privileges({.uid = static_cast<uid_t>(config.jail_uid),
                               .gid = static_cast<gid_t>(config.jail_gid),
                               .file_server = false});
    SPDLOG_INFO("jailed in {} as uid {} gid {}", config.jail, config.jail_uid, config.jail_gid);
  }

  GuestMemory memory =
      !snapshots.source ? GuestMemory::create(mc.mem_bytes, mc.hugepages) : from_snapshot([&] {
        auto& file = snapshots.source->memory;
        return config.restore_copy ? GuestMemory::copy_of(std::move(file), mc.mem_bytes)
                                   : GuestMemory::map_private(std::move(file), mc.mem_bytes);
      });
  if (config.hotplug_mib) memory.add_hotplug(config.hotplug_mib << 20);
  auto machine = Machine::create(mc, std::move(memory));
  kvm_fd.reset();
  if (HotplugRegion* region = machine->memory().hotplug()) {
    // Last, so that the other devices keep their slots with or without it.
    auto mem = std::make_shared<mem::MemDevice>(*region);
    counted.mem = mem;
    devices.push_back(std::move(mem));
  }
  if (fs) {
    Machine* m = machine.get();
    fs->on_server_lost([m](const std::string& why) { m->device_lost(why); });
  }
  VirtioSlots slots(*machine);
  for (auto& d : devices) slots.attach(std::move(d));
  if (snapshots.source) {
    // A snapshot holds a running Linux guest, which PVM cannot run either.
    if (Kvm::host_is_pvm())
      fail(
          "this host's KVM is PVM (the kvm_pvm module), which cannot run a restored guest "
          "kernel; use a host with VT-x/AMD-V, or run inside tools/testvm");
    // The interrupt controllers first: a restored transport may raise its
    // pending interrupt at once.
    from_snapshot([&] {
      machine->restore_state(snapshots.source->state["machine"]);
      slots.restore_state(snapshots.source->state["devices"]);
    });
    snapshots.source.reset();
    SPDLOG_INFO("vm restored from {}", config.restore);
  } else {
    std::string cmdline = config.cmdline;
    // Memory the virtio-mem driver adds is onlined by the kernel's policy,
    // which is "offline" by default. ZONE_MOVABLE keeps every block
    // unpluggable again (nothing pinned lands there); a caller's own
    // memhp_default_state wins.
    if (config.hotplug_mib && cmdline.find("memhp_default_state=") == std::string::npos)
      cmdline += " memhp_default_state=online_movable";
    if (std::string devices = slots.kernel_cmdline(); !devices.empty()) cmdline += " " + devices;
    boot_kernel(*machine, {config.kernel, config.initrd, cmdline});
  }

  EventLoop loop("vmm");
  bool running = true;
  loop.add(sigfd.get(), EPOLLIN, [&](uint32_t) {
    signalfd_siginfo si{};
    if (read(sigfd.get(), &si, sizeof si) == sizeof si) {
      SPDLOG_INFO("signal={} stopping the vm", strsignal(static_cast<int>(si.ssi_signo)));
      machine->stop(fmt::format("SIG{} received", sigabbrev_np(static_cast<int>(si.ssi_signo))));
    }
  });
  loop.add(machine->end_fd(), EPOLLIN, [&](uint32_t) { running = false; });
  std::optional<ControlServer> control;
  if (!config.control_socket.empty()) {
    std::function<void()> snapshot;
    if (snapshots.target) snapshot = [&] { take_snapshot(*machine, slots, *snapshots.target); };
    control.emplace(std::move(*control_socket), *machine, std::move(counted), std::move(snapshot));
    control->attach(loop);
  }
  // Console input: only when there is a console and stdin can be polled
  // (a terminal or a pipe, not /dev/null or a file).
  if (console && config.console == "stdout") {
    try {
      loop.add(STDIN_FILENO, EPOLLIN, [&](uint32_t) {
        uint8_t buf[256];
        ssize_t r = read(STDIN_FILENO, buf, sizeof buf);
        if (r > 0) {
          machine->serial().enqueue_input({buf, static_cast<size_t>(r)});
        } else if (r == 0 || errno != EAGAIN) {
          loop.remove(STDIN_FILENO);
        }
      });
    } catch (const Error&) {
      // Not pollable: no console input.
    }
  }

  SPDLOG_INFO("vm starting cpus={} max_cpus={} mem_mib={} hotplug_mib={} kernel={}", config.cpus,
              machine->vcpu_count(), config.mem_mib, config.hotplug_mib, config.kernel);
  machine->start();
  // Set up: from here the main thread only serves signals, the control
  // socket and the console, waits for the end and tears down. (vCPU threads
  // and the device control thread have confined themselves.)
  security::confine_thread(
      snapshots.target ? security::ThreadRole::SnapshotControl : security::ThreadRole::Control,
      mc.seccomp);
  while (running) {
    // A short timeout only while console output waits for its line end.
    if (loop.run_once(console && console->has_pending() ? 50 : -1) == EventLoop::Wake::Timeout)
      console->flush();
  }
  VmExit exit = machine->wait();
  if (exit.exit_status() == 0)
    SPDLOG_INFO("vm ended reason=\"{}\"", exit.describe());
  else
    SPDLOG_ERROR("vm ended reason=\"{}\"", exit.describe());
  return exit.exit_status();
}

}  // namespace
}  // namespace vmrt::vmm

int main(int argc, char** argv) {
  using namespace vmrt;
  using namespace vmrt::vmm;
  // Blocked before anything else (and inherited by every thread), so a stop
  // request during setup is handled in order too, not by the default action.
  sigset_t sigs = stop_signals();
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  CLI::App app{"vmrt-vmm: run one KVM micro-VM"};
  std::string config_file;
  VmmConfig flags;
  app.add_option("--config", config_file, "JSON configuration file (flags override it)");
  auto* kernel =
      app.add_option("--kernel", flags.kernel, "guest kernel: ELF vmlinux (PVH) or bzImage");
  auto* initrd = app.add_option("--initrd", flags.initrd, "initramfs");
  auto* cmdline = app.add_option("--cmdline", flags.cmdline, "kernel command line");
  auto* mem = app.add_option("--mem", flags.mem_mib, "guest memory in MiB");
  auto* cpus = app.add_option("--cpus", flags.cpus, "number of vCPUs the guest starts at boot");
  auto* max_cpus = app.add_option("--max-cpus", flags.max_cpus,
                                  "number of vCPUs the VM has (default --cpus); those beyond "
                                  "--cpus the guest can online later");
  auto* console = app.add_option("--console", flags.console, "stdout, none, or a file/FIFO path");
  auto* control = app.add_option("--control-socket", flags.control_socket,
                                 "Unix socket for info/pause/resume/shutdown");
  auto* vsock_socket =
      app.add_option("--vsock-socket", flags.vsock_socket,
                     "add a virtio-vsock device served on this hybrid Unix socket");
  auto* vsock_cid =
      app.add_option("--vsock-cid", flags.vsock_cid, "the guest's vsock CID (default 3)");
  auto* fs_dir = app.add_option("--fs-dir", flags.fs_dir,
                                "add a virtio-fs device sharing this host directory");
  auto* fs_tag =
      app.add_option("--fs-tag", flags.fs_tag, "the virtio-fs tag the guest mounts (default vmrt)");
  auto* fs_cache =
      app.add_option("--fs-cache", flags.fs_cache, "virtio-fs caching: none, auto, always");
  auto* net_tap = app.add_option(
      "--net-tap", flags.net_tap,
      "add a virtio-net device on this tap interface (created if missing, in the VMM's netns)");
  auto* net_tap_fd =
      app.add_option("--net-tap-fd", flags.net_tap_fd,
                     "add a virtio-net device on this inherited, already open tap fd");
  auto* net_mac = app.add_option("--net-mac", flags.net_mac,
                                 "the guest's MAC address xx:xx:xx:xx:xx:xx (default: random)");
  auto* seccomp =
      app.add_option("--seccomp", flags.seccomp,
                     "per-thread seccomp filters: on (a forbidden call kills the VMM), off, log");
  auto* hotplug = app.add_option(
      "--hotplug-mib", flags.hotplug_mib,
      "add a virtio-mem device with a hotplug region of this many MiB (a multiple of 128; "
      "0: none); the control socket's \"memory\" command resizes it");
  auto* huge = app.add_flag("--hugepages", flags.hugepages, "back guest RAM with 2 MiB huge pages");
  auto* level = app.add_option("--log-level", flags.log_level, "trace, debug, info, warn, error");
  auto* jail = app.add_option("--jail", flags.jail,
                              "run jailed in this directory (new mount and IPC namespaces, "
                              "pivot_root), then as --jail-uid/--jail-gid");
  auto* jail_uid = app.add_option("--jail-uid", flags.jail_uid, "the jailed VMM's uid (65534)");
  auto* jail_gid = app.add_option("--jail-gid", flags.jail_gid, "the jailed VMM's gid (65534)");
  auto* snapshot_dir = app.add_option(
      "--snapshot-dir", flags.snapshot_dir,
      "write a snapshot (state, memory) here on the control socket's \"snapshot\" command");
  auto* restore = app.add_option("--restore", flags.restore,
                                 "restore the VM from the snapshot in this directory, not boot");
  auto* restore_copy = app.add_flag(
      "--restore-copy", flags.restore_copy,
      "with --restore: copy the snapshot's memory into RAM of this VM's own instead of "
      "mapping it copy-on-write (no page shared with other VMs restored from it)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  }
  try {
    // Errors in the configuration itself are logged to stderr too.
    logging::init("vmrt-vmm");
    VmmConfig config = config_file.empty() ? VmmConfig{} : load_config_file(config_file);
    if (*kernel) config.kernel = flags.kernel;
    if (*initrd) config.initrd = flags.initrd;
    if (*cmdline) config.cmdline = flags.cmdline;
    if (*mem) config.mem_mib = flags.mem_mib;
    if (*cpus) config.cpus = flags.cpus;
    if (*max_cpus) config.max_cpus = flags.max_cpus;
    if (*console) config.console = flags.console;
    if (*control) config.control_socket = flags.control_socket;
    if (*vsock_socket) config.vsock_socket = flags.vsock_socket;
    if (*vsock_cid) config.vsock_cid = flags.vsock_cid;
    if (*fs_dir) config.fs_dir = flags.fs_dir;
    if (*fs_tag) config.fs_tag = flags.fs_tag;
    if (*fs_cache) config.fs_cache = flags.fs_cache;
    if (*net_tap) config.net_tap = flags.net_tap;
    if (*net_tap_fd) config.net_tap_fd = flags.net_tap_fd;
    if (*net_mac) config.net_mac = flags.net_mac;
    if (*seccomp) config.seccomp = flags.seccomp;
    if (*hotplug) config.hotplug_mib = flags.hotplug_mib;
    if (*huge) config.hugepages = true;
    if (*level) config.log_level = flags.log_level;
    if (*jail) config.jail = flags.jail;
    if (*jail_uid) config.jail_uid = flags.jail_uid;
    if (*jail_gid) config.jail_gid = flags.jail_gid;
    if (*snapshot_dir) config.snapshot_dir = flags.snapshot_dir;
    if (*restore) config.restore = flags.restore;
    if (*restore_copy) config.restore_copy = true;
    logging::init("vmrt-vmm", config.log_level);
    validate(config);
    if (!config.jail.empty()) Kvm::host_is_pvm();  // while /sys is in reach
    Snapshots snapshots;
    if (!config.restore.empty())
      snapshots.source = from_snapshot([&] { return SnapshotSource::open(config.restore); });
    if (!config.snapshot_dir.empty()) snapshots.target = SnapshotFiles::create(config.snapshot_dir);
    std::shared_ptr<fs::FsDevice> fs_device = make_fs_device(config);
    if (!config.jail.empty()) security::enter_jail(security::plan_jail(config));
    return run(config, std::move(fs_device), std::move(snapshots));
  } catch (const SnapshotUnusable& e) {
    spdlog::error("the snapshot cannot be restored: {}", e.what());
    return vmm_exit::kSnapshotUnusable;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return vmm_exit::kSetupError;
  }
}
