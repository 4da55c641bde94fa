#include "vmm/kvm/vm.h"

#include <sys/ioctl.h>

#include "common/error.h"

namespace vmrt::vmm {

Vm Vm::create(const Kvm& kvm, const GuestMemory& mem) {
  Vm vm;
  // EINTR: KVM_CREATE_VM can be interrupted while the kernel sets up the MMU.
  int fd;
  do fd = ioctl(kvm.fd(), KVM_CREATE_VM, 0);
  while (fd < 0 && errno == EINTR);
  vm.fd_ = UniqueFd(check_sys(fd, "KVM_CREATE_VM"));

  check_sys(ioctl(vm.fd(), KVM_SET_TSS_ADDR, kTssAddr), "KVM_SET_TSS_ADDR");
  uint64_t identity = kIdentityMapAddr;
  check_sys(ioctl(vm.fd(), KVM_SET_IDENTITY_MAP_ADDR, &identity), "KVM_SET_IDENTITY_MAP_ADDR");
  check_sys(ioctl(vm.fd(), KVM_CREATE_IRQCHIP, 0), "KVM_CREATE_IRQCHIP");
  // The dummy speaker port (0x61) lets the guest's PIT calibration run in the kernel.
  kvm_pit_config pit{};
  pit.flags = KVM_PIT_SPEAKER_DUMMY;
  check_sys(ioctl(vm.fd(), KVM_CREATE_PIT2, &pit), "KVM_CREATE_PIT2");

  uint32_t slot = 0;
  for (const RamRegion& r : mem.regions()) {
    kvm_userspace_memory_region region{};
    region.slot = slot++;
    region.guest_phys_addr = r.gpa;
    region.memory_size = r.size;
    region.userspace_addr = reinterpret_cast<uint64_t>(mem.host_base() + r.offset);
    check_sys(ioctl(vm.fd(), KVM_SET_USER_MEMORY_REGION, &region), "KVM_SET_USER_MEMORY_REGION");
  }
  // The virtio-mem region: its own slot over the guest's view, whose
  // unplugged blocks the guest cannot touch (hotplug_region.h).
  if (const HotplugRegion* h = mem.hotplug()) {
    kvm_userspace_memory_region region{};
    region.slot = slot++;
    region.guest_phys_addr = h->gpa();
    region.memory_size = h->size();
    region.userspace_addr = reinterpret_cast<uint64_t>(h->guest_view());
    check_sys(ioctl(vm.fd(), KVM_SET_USER_MEMORY_REGION, &region),
              "KVM_SET_USER_MEMORY_REGION (hotplug region)");
  }
  return vm;
}

void Vm::set_irq_line(uint32_t irq, bool level) const {
  kvm_irq_level line{};
  line.irq = irq;
  line.level = level ? 1 : 0;
  check_sys(ioctl(fd(), KVM_IRQ_LINE, &line), "KVM_IRQ_LINE");
}

void Vm::pulse_irq(uint32_t irq) const {
  set_irq_line(irq, true);
  set_irq_line(irq, false);
}

void Vm::add_irqfd(int eventfd, uint32_t gsi) const {
  kvm_irqfd req{};
  req.fd = static_cast<uint32_t>(eventfd);
  req.gsi = gsi;
  check_sys(ioctl(fd(), KVM_IRQFD, &req), "KVM_IRQFD");
}

void Vm::add_ioeventfd(int eventfd, uint64_t addr, uint32_t len,
                       std::optional<uint64_t> datamatch) const {
  kvm_ioeventfd req{};
  req.addr = addr;
  req.len = len;
  req.fd = eventfd;
  if (datamatch) {
    req.datamatch = *datamatch;
    req.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
  }
  check_sys(ioctl(fd(), KVM_IOEVENTFD, &req), "KVM_IOEVENTFD");
}

}  // namespace vmrt::vmm
