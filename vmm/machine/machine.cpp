#include "vmm/machine/machine.h"

#include <fcntl.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>

#include "common/error.h"
#include "common/event_fd.h"
#include "vmm/kvm/cpuid.h"
#include "vmm/security/confine.h"

namespace vmrt::vmm {

namespace {

// vCPU threads are interrupted out of KVM_RUN with this signal; its handler
// does nothing, the EINTR is the point.
int kick_signal() { return SIGRTMIN; }

void install_kick_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_handler = [](int) {};
    sigemptyset(&sa.sa_mask);
    sigaction(kick_signal(), &sa, nullptr);  // no SA_RESTART: KVM_RUN must return
  });
}

// vCPU threads take only the kick signal; process signals go to the main loop.
void block_all_but_kick() {
  sigset_t set;
  sigfillset(&set);
  sigdelset(&set, kick_signal());
  for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) sigdelset(&set, s);
  pthread_sigmask(SIG_SETMASK, &set, nullptr);
}

const char* kvm_exit_name(uint32_t reason) {
  switch (reason) {
    case KVM_EXIT_UNKNOWN:
      return "unknown";
    case KVM_EXIT_EXCEPTION:
      return "exception";
    case KVM_EXIT_HLT:
      return "hlt";
    case KVM_EXIT_DEBUG:
      return "debug";
    case KVM_EXIT_IRQ_WINDOW_OPEN:
      return "irq window open";
    case KVM_EXIT_NMI:
      return "nmi";
    default:
      return "other";
  }
}

// When the VMM process started, near enough: this file's static
// initialisation runs before main(). The steady clock, unlike the process
// start time in procfs, needs no file a jailed VMM could not open.
const std::chrono::steady_clock::time_point kProcessStart = std::chrono::steady_clock::now();

// Fills in max_cpus (0: as many as cpus) and checks the two against each
// other; the upper bound is KVM's, checked in create().
void check_cpu_counts(MachineConfig& config) {
  if (config.cpus == 0) fail("a VM needs at least one vCPU");
  if (config.max_cpus == 0) config.max_cpus = config.cpus;
  if (config.max_cpus < config.cpus)
    fail("{} vCPUs to start but at most {} (max_cpus): max_cpus must be at least cpus", config.cpus,
         config.max_cpus);
}

}  // namespace

Machine::Machine(MachineConfig config, Kvm kvm, GuestMemory mem, Vm vm)
    : config_(std::move(config)),
      kvm_(std::move(kvm)),
      mem_(std::move(mem)),
      vm_(std::move(vm)),
      device_control_([mode = config_.seccomp] {
        security::confine_thread(security::ThreadRole::Device, mode);
      }) {}

std::unique_ptr<Machine> Machine::create(MachineConfig config) {
  // Checked here too: the RAM is made before create(config, mem) checks.
  check_cpu_counts(config);
  GuestMemory mem = GuestMemory::create(config.mem_bytes, config.hugepages);
  return create(std::move(config), std::move(mem));
}

std::unique_ptr<Machine> Machine::create(MachineConfig config, GuestMemory mem) {
  check_cpu_counts(config);
  if (mem.size() != config.mem_bytes)
    fail("guest RAM of {} bytes given for a VM configured with {} bytes", mem.size(),
         config.mem_bytes);
  UniqueFd opened;
  if (config.kvm_fd >= 0)
    opened = UniqueFd(check_sys(::fcntl(config.kvm_fd, F_DUPFD_CLOEXEC, 0), "dup the /dev/kvm fd"));
  Kvm kvm = Kvm::open(config.kvm_path, std::move(opened));
  // 254: the MP table's APIC IDs are 8-bit and 255 is broadcast.
  uint32_t limit = std::min<uint32_t>(254, static_cast<uint32_t>(std::max(kvm.max_vcpus(), 1)));
  if (config.max_cpus > limit)
    fail("{} vCPUs requested, but at most {} are supported here", config.max_cpus, limit);
  Vm vm = Vm::create(kvm, mem);
  std::unique_ptr<Machine> m(
      new Machine(std::move(config), std::move(kvm), std::move(mem), std::move(vm)));

  m->end_fd_ = make_eventfd("the end of the VM");
  // Every vCPU now, also those the guest starts later: KVM leaves each but
  // the first waiting for INIT/SIPI (mp_state UNINITIALIZED) inside
  // KVM_RUN, and the MP table lists them all.
  for (uint32_t i = 0; i < m->config_.max_cpus; ++i) {
    m->vcpus_.push_back(Vcpu::create(m->kvm_, m->vm_, i));
    m->exits_.push_back(std::make_unique<VcpuExitCounts>());
  }

  Machine* self = m.get();
  m->serial_ = std::make_shared<Serial>(
      [self](std::span<const uint8_t> bytes) {
        self->monitor_.feed(bytes);
        if (self->config_.console) self->config_.console(bytes);
        if (self->monitor_.halted()) self->end(ExitKind::PowerOff, "");
      },
      [self] { self->vm_.pulse_irq(Serial::kCom1Irq); });
  m->pio_.add(Serial::kCom1Base, Serial::kPortCount, m->serial_, "COM1");
  m->i8042_ = std::make_shared<I8042>([self] { self->guest_reset(); });
  m->pio_.add(I8042::kDataPort, I8042::kCommandPort - I8042::kDataPort + 1, m->i8042_, "i8042");
  return m;
}

Machine::~Machine() {
  bool running;
  {
    std::lock_guard lock(mu_);
    running = !threads_.empty();
  }
  if (running) {
    stop("VMM shutting down");
    wait();
  }
}

uint64_t Machine::vcpu_exits(ExitReason r) const {
  uint64_t n = 0;
  for (const auto& c : exits_) n += c->get(r);
  return n;
}

void Machine::init_vcpus_for_boot() {
  std::vector<kvm_cpuid_entry2> supported = kvm_.supported_cpuid();
  EmulatedFeatures emulated;
  emulated.tsc_deadline_timer = kvm_.check_extension(KVM_CAP_TSC_DEADLINE_TIMER) > 0;
  for (Vcpu& v : vcpus_) {
    v.set_cpuid(vcpu_cpuid(supported, v.index(), vcpu_count(), emulated));
    v.init_boot_msrs();
    v.init_fpu();
    v.init_lapic_lints();
  }
}

void Machine::start() {
  install_kick_handler();
  std::lock_guard lock(mu_);
  if (state_ != RunState::Created) fail("the VM was already started");
  state_ = RunState::Running;
  for (Vcpu& v : vcpus_)
    threads_.emplace_back([this, &v] {
      block_all_but_kick();
      pthread_setname_np(pthread_self(), fmt::format("vcpu{}", v.index()).c_str());
      try {
        security::confine_thread(security::ThreadRole::Vcpu, config_.seccomp);
        vcpu_loop(v);
      } catch (const std::exception& e) {
        end(ExitKind::InternalError, e.what());
      }
    });
}

void Machine::vcpu_loop(Vcpu& vcpu) {
  if (vcpu.index() == 0) {
    // The VMM's start-up cost, for the benchmarks: CPU time of the whole
    // process (every thread) until the guest's first instruction.
    timespec cpu{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    auto cpu_us =
        static_cast<uint64_t>(cpu.tv_sec) * 1000000 + static_cast<uint64_t>(cpu.tv_nsec) / 1000;
    auto wall = std::chrono::steady_clock::now() - kProcessStart;
    setup_cpu_us_ = std::max<uint64_t>(cpu_us, 1);
    first_run_us_ = std::max<uint64_t>(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(wall).count()),
        1);
    SPDLOG_INFO("first KVM_RUN after {:.2f} CPU-ms of VMM setup",
                static_cast<double>(cpu_us) / 1e3);
  }
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (state_ == RunState::Paused) {
        lock.unlock();
        if (!complete_pending_exit(vcpu)) return;
        lock.lock();
      }
      while (state_ == RunState::Paused) {
        ++parked_;
        cv_.notify_all();
        cv_.wait(lock);
        --parked_;
      }
      if (state_ == RunState::Ended) return;
    }
    // Clear before re-checking the state: a kick that lands after the check
    // sets immediate_exit again, so KVM_RUN returns at once.
    vcpu.run_state()->immediate_exit = 0;
    {
      std::lock_guard lock(mu_);
      if (state_ != RunState::Running) continue;
    }
    Vcpu::RunResult r = vcpu.run();
    if (r == Vcpu::RunResult::Interrupted) continue;
    exits_[vcpu.index()]->count(r == Vcpu::RunResult::Woken
                                    ? ExitReason::Wake
                                    : classify_exit(vcpu.run_state()->exit_reason));
    if (r == Vcpu::RunResult::Exit && !handle_exit(vcpu)) return;
  }
}

// KVM finishes an I/O or MMIO read (the value lands in the guest's
// register) only on the next KVM_RUN, and keeps that pending operation where
// no state ioctl can see it. So a vCPU about to park for a pause re-enters
// with immediate_exit set: KVM completes the operation and returns at once,
// and a snapshot taken while paused holds final registers. Returns false
// when an exit handled on the way ended the VM.
bool Machine::complete_pending_exit(Vcpu& vcpu) {
  // A completion can itself exit again (a string I/O instruction's next
  // round); a few rounds are plenty, the rest completes on resume.
  for (int round = 0; round < 8; ++round) {
    vcpu.run_state()->immediate_exit = 1;
    if (vcpu.run() != Vcpu::RunResult::Exit) return true;
    if (!handle_exit(vcpu)) return false;
  }
  return true;
}

bool Machine::handle_exit(Vcpu& vcpu) {
  kvm_run* run = vcpu.run_state();
  switch (run->exit_reason) {
    case KVM_EXIT_IO: {
      auto* base = reinterpret_cast<uint8_t*>(run) + run->io.data_offset;
      for (uint32_t i = 0; i < run->io.count; ++i) {
        std::span<uint8_t> data(base + i * run->io.size, run->io.size);
        bool handled = run->io.direction == KVM_EXIT_IO_OUT ? pio_.write(run->io.port, data)
                                                            : pio_.read(run->io.port, data);
        if (!handled) SPDLOG_DEBUG("unclaimed port {:#x} access", run->io.port);
      }
      return true;
    }
    case KVM_EXIT_MMIO: {
      std::span<uint8_t> data(run->mmio.data,
                              std::min<uint32_t>(run->mmio.len, sizeof run->mmio.data));
      bool handled = run->mmio.is_write ? mmio_.write(run->mmio.phys_addr, data)
                                        : mmio_.read(run->mmio.phys_addr, data);
      if (!handled) SPDLOG_DEBUG("unclaimed MMIO {:#x} access", run->mmio.phys_addr);
      return true;
    }
    case KVM_EXIT_SHUTDOWN:
      end(ExitKind::TripleFault,
          fmt::format("vCPU {} shut down (rip {:#x})", vcpu.index(), vcpu.regs().rip));
      return false;
    case KVM_EXIT_SYSTEM_EVENT:
      switch (run->system_event.type) {
        case KVM_SYSTEM_EVENT_RESET:
          guest_reset();
          return false;
        case KVM_SYSTEM_EVENT_SHUTDOWN:
          end(ExitKind::PowerOff, "");
          return false;
        case KVM_SYSTEM_EVENT_CRASH:
          end(ExitKind::Panic, "reported by the guest");
          return false;
      }
      return true;
    case KVM_EXIT_FAIL_ENTRY:
      end(ExitKind::InternalError,
          fmt::format("VM entry failed on vCPU {} (hardware reason {:#x})", vcpu.index(),
                      run->fail_entry.hardware_entry_failure_reason));
      return false;
    case KVM_EXIT_INTERNAL_ERROR:
      end(ExitKind::InternalError,
          fmt::format(
              "KVM internal error on vCPU {} (suberror {}{}, rip {:#x})", vcpu.index(),
              run->internal.suberror,
              run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ? ": emulation failure" : "",
              vcpu.regs().rip));
      return false;
    case KVM_EXIT_INTR:
      return true;
    default:
      end(ExitKind::InternalError,
          fmt::format("unexpected KVM exit {} ({}) on vCPU {}", run->exit_reason,
                      kvm_exit_name(run->exit_reason), vcpu.index()));
      return false;
  }
}

void Machine::guest_reset() {
  if (auto msg = monitor_.panic_message()) {
    end(ExitKind::Panic, *msg);
  } else {
    end(ExitKind::Reset, "");
  }
}

void Machine::end(ExitKind kind, std::string detail) {
  {
    std::lock_guard lock(mu_);
    if (exit_) return;
    exit_ = VmExit{kind, std::move(detail)};
    state_ = RunState::Ended;
    kick_all();
  }
  cv_.notify_all();
  signal_eventfd(end_fd_.get());
}

void Machine::kick_all() {
  for (Vcpu& v : vcpus_) v.run_state()->immediate_exit = 1;
  for (std::thread& t : threads_) pthread_kill(t.native_handle(), kick_signal());
}

VmExit Machine::wait() {
  std::vector<std::thread> threads;
  VmExit result;
  {
    std::unique_lock lock(mu_);
    if (state_ == RunState::Created) fail("the VM was never started");
    cv_.wait(lock, [this] { return exit_.has_value(); });
    threads.swap(threads_);
    result = *exit_;
  }
  for (std::thread& t : threads)
    if (t.joinable()) t.join();
  return result;
}

void Machine::stop(std::string why) { end(ExitKind::Stopped, std::move(why)); }

void Machine::device_lost(std::string why) { end(ExitKind::DeviceLost, std::move(why)); }

void Machine::pause() {
  std::unique_lock lock(mu_);
  if (state_ != RunState::Running) return;
  state_ = RunState::Paused;
  kick_all();
  cv_.wait(lock, [this] { return parked_ == threads_.size() || state_ != RunState::Paused; });
}

void Machine::resume() {
  {
    std::lock_guard lock(mu_);
    if (state_ != RunState::Paused) return;
    state_ = RunState::Running;
  }
  cv_.notify_all();
}

RunState Machine::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

}  // namespace vmrt::vmm
