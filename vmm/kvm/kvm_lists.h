#pragma once
// Variable-length KVM ioctl arguments (kvm_cpuid2, kvm_msrs): a count, a pad
// word, then the entries.
//
// Why not the uapi structs themselves: in the linux/stddef.h this project
// builds against, __DECLARE_FLEX_ARRAY expands under C++ to an empty struct
// member before the array (fixed upstream in Linux 6.3). That moves `entries`
// to offset 12/16 and changes sizeof, and the ioctl numbers encode sizeof. So
// the C layout is rebuilt here: the header the kernel reads, followed by the
// uapi entry type, and the ioctl numbers computed from that header.

#include <linux/kvm.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace vmrt::vmm {

struct KvmListHeader {
  uint32_t count;
  uint32_t pad;
};
static_assert(sizeof(KvmListHeader) == 8);

// The C sizes of struct kvm_cpuid2 and struct kvm_msrs are 8, as here.
inline constexpr unsigned long kKvmGetSupportedCpuid = _IOWR(KVMIO, 0x05, KvmListHeader);
inline constexpr unsigned long kKvmSetCpuid2 = _IOW(KVMIO, 0x90, KvmListHeader);
inline constexpr unsigned long kKvmSetMsrs = _IOW(KVMIO, 0x89, KvmListHeader);
inline constexpr unsigned long kKvmGetMsrs = _IOWR(KVMIO, 0x88, KvmListHeader);
inline constexpr unsigned long kKvmGetCpuid2 = _IOWR(KVMIO, 0x91, KvmListHeader);
// struct kvm_msr_list is a u32 count (no pad) then u32 indices: C size 4.
inline constexpr unsigned long kKvmGetMsrIndexList = _IOWR(KVMIO, 0x02, uint32_t);

// struct kvm_xsave without the flexible `extra` tail (which KVM_GET_XSAVE
// never fills): its C size, 4096, is what the ioctl numbers encode.
struct KvmXsave {
  uint32_t region[1024];
};
static_assert(sizeof(KvmXsave) == 4096);
inline constexpr unsigned long kKvmGetXsave = _IOR(KVMIO, 0xa4, KvmXsave);
inline constexpr unsigned long kKvmSetXsave = _IOW(KVMIO, 0xa5, KvmXsave);

// A buffer laid out as the kernel expects: header, then `count` entries.
template <typename Entry>
class KvmList {
 public:
  explicit KvmList(size_t count) : buf_(sizeof(KvmListHeader) + count * sizeof(Entry)) {
    KvmListHeader h{static_cast<uint32_t>(count), 0};
    std::memcpy(buf_.data(), &h, sizeof h);
  }
  explicit KvmList(std::span<const Entry> entries) : KvmList(entries.size()) {
    std::memcpy(buf_.data() + sizeof(KvmListHeader), entries.data(), entries.size_bytes());
  }
  void* arg() { return buf_.data(); }
  uint32_t count() const {
    KvmListHeader h;
    std::memcpy(&h, buf_.data(), sizeof h);
    return h.count;
  }
  // The entries the kernel reported (never more than were allocated).
  std::vector<Entry> entries() const {
    size_t n = std::min<size_t>(count(), (buf_.size() - sizeof(KvmListHeader)) / sizeof(Entry));
    std::vector<Entry> out(n);
    std::memcpy(out.data(), buf_.data() + sizeof(KvmListHeader), n * sizeof(Entry));
    return out;
  }

 private:
  // operator new aligns to 16, enough for the 8-byte-aligned entries.
  std::vector<uint8_t> buf_;
};

}  // namespace vmrt::vmm
