// The hostile guest of the vsock attack rig test (VMRT_TEST_ACTION=attack):
// root in the guest takes the virtio-vsock device away from its kernel
// driver and drives its registers itself through /dev/mem, with rings in
// pages whose guest-physical addresses it reads from /proc/self/pagemap.
// Each attack reports one console line "VMRT_ATTACK <name> <outcome>"; the
// host test decides what outcome is right. Afterwards the kernel driver gets
// the device back and floods it with more streams than the VMM allows.
#include "guest_attack.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>
#include <linux/vm_sockets.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
  kPage = 4096,
  kQueueSize = 16,
  kPages = 24,         // 0-2 rx rings, 3-5 tx rings, 6-13 rx buffers, 14+ tx buffers
  kCreditPort = 6001,  // the host accepts there and never reads
  kFloodPort = 6002,   // the host accepts and holds every stream
  kFloodStreams = 2000,
};
#define OUTSIDE_RAM (1ull << 40)

static volatile uint32_t* regs;
static uint8_t* pages[kPages];
static uint64_t phys[kPages];
static uint64_t guest_cid;

static uint32_t rd(unsigned off) { return regs[off / 4]; }
static void wr(unsigned off, uint32_t v) { regs[off / 4] = v; }

static void say(const char* name, const char* outcome) {
  printf("VMRT_ATTACK %s %s\n", name, outcome);
  fflush(stdout);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int write_text(const char* path, const char* text) {
  int fd = open(path, O_WRONLY);
  int ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);
  if (fd >= 0) close(fd);
  return ok ? 0 : -1;
}

// The virtio device id behind platform device virtio-mmio.K (its virtio
// child's "device" attribute), or -1.
static long slot_device_id(int k) {
  for (int n = 0; n < 32; ++n) {
    char path[128], id[32] = {0};
    snprintf(path, sizeof path, "/sys/bus/platform/devices/virtio-mmio.%d/virtio%d/device", k, n);
    int f = open(path, O_RDONLY);
    if (f < 0) continue;
    ssize_t r = read(f, id, sizeof id - 1);
    close(f);
    return r > 0 ? strtol(id, NULL, 0) : -1;
  }
  return -1;
}

// The index and base address of the virtio-mmio slot holding the vsock
// device: slot K of the kernel command line is platform device virtio-mmio.K.
static int find_vsock_slot(uint64_t* base) {
  char cmdline[4096] = {0};
  int fd = open("/proc/cmdline", O_RDONLY);
  if (fd < 0) return -1;
  ssize_t n = read(fd, cmdline, sizeof cmdline - 1);
  close(fd);
  if (n <= 0) return -1;
  int k = 0;
  for (char* p = cmdline; (p = strstr(p, "virtio_mmio.device=")); ++k) {
    p = strchr(p, '@');
    if (!p) return -1;
    uint64_t addr = strtoull(p + 1, &p, 0);
    if (slot_device_id(k) == VIRTIO_ID_VSOCK) {
      *base = addr;
      return k;
    }
  }
  return -1;
}

// Pages the device may address, locked in place, with their guest-physical
// addresses.
static int map_pages(void) {
  uint8_t* mem = mmap(NULL, kPages * kPage, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED, -1, 0);
  int fd = open("/proc/self/pagemap", O_RDONLY);
  if (mem == MAP_FAILED || fd < 0) return -1;
  for (int i = 0; i < kPages; ++i) {
    pages[i] = mem + (size_t)i * kPage;
    uint64_t entry = 0;
    off_t at = (off_t)((uintptr_t)pages[i] / kPage * sizeof entry);
    if (pread(fd, &entry, sizeof entry, at) != sizeof entry || !(entry >> 63)) return -1;
    phys[i] = (entry & ((1ull << 55) - 1)) * kPage;
  }
  close(fd);
  return 0;
}

static void set_queue(unsigned q, uint64_t desc, uint64_t avail, uint64_t used) {
  wr(VIRTIO_MMIO_QUEUE_SEL, q);
  wr(VIRTIO_MMIO_QUEUE_NUM, kQueueSize);
  wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
  wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
  wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)avail);
  wr(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(avail >> 32));
  wr(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)used);
  wr(VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(used >> 32));
  wr(VIRTIO_MMIO_QUEUE_READY, 1);
}

// Resets the device and brings it up as a driver would, with the tx rings at
// `tx_desc` (normally page 3). Returns the device status afterwards.
static uint32_t bring_up(uint64_t tx_desc, int indirect) {
  wr(VIRTIO_MMIO_STATUS, 0);
  for (int i = 0; i < 100 && rd(VIRTIO_MMIO_STATUS) != 0; ++i) sleep_ms(10);
  for (int i = 6; i < 24; ++i) memset(pages[i], 0, kPage);
  memset(pages[0], 0, 3 * kPage);
  memset(pages[3], 0, 3 * kPage);
  wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
  wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
  wr(VIRTIO_MMIO_DRIVER_FEATURES, 1u << (VIRTIO_F_VERSION_1 - 32));
  wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
  wr(VIRTIO_MMIO_DRIVER_FEATURES, indirect ? 1u << VIRTIO_RING_F_INDIRECT_DESC : 0);
  wr(VIRTIO_MMIO_STATUS,
     VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
  guest_cid = rd(VIRTIO_MMIO_CONFIG) | (uint64_t)rd(VIRTIO_MMIO_CONFIG + 4) << 32;
  set_queue(0, phys[0], phys[1], phys[2]);
  set_queue(1, tx_desc, phys[4], phys[5]);
  set_queue(2, phys[0] + 2048, phys[1] + 2048, phys[2] + 2048);  // event queue, unused
  wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                             VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
  return rd(VIRTIO_MMIO_STATUS);
}

static struct vring_desc* tx_desc(void) { return (struct vring_desc*)pages[3]; }
static struct vring_avail* tx_avail(void) { return (struct vring_avail*)pages[4]; }
static struct vring_used* tx_used(void) { return (struct vring_used*)pages[5]; }
static struct vring_desc* rx_desc(void) { return (struct vring_desc*)pages[0]; }
static struct vring_avail* rx_avail(void) { return (struct vring_avail*)pages[1]; }
static struct vring_used* rx_used(void) { return (struct vring_used*)pages[2]; }

// Makes `head` available on the tx queue, `count` times as far as the avail
// index goes (a count beyond the queue size is itself an attack).
static void post_tx(uint16_t head, uint16_t count) {
  struct vring_avail* a = tx_avail();
  a->ring[a->idx % kQueueSize] = head;
  __sync_synchronize();
  a->idx = (uint16_t)(a->idx + count);
  __sync_synchronize();
  wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
}

// "needs_reset" once the device flagged the ring, else "accepted".
static const char* verdict(void) {
  for (int i = 0; i < 300; ++i) {
    if (rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET) return "needs_reset";
    sleep_ms(10);
  }
  return "accepted";
}

static void fill_request(uint8_t* at, uint16_t op, uint32_t src_port, uint32_t dst_port,
                         uint32_t len) {
  struct virtio_vsock_hdr h = {0};
  h.src_cid = guest_cid;
  h.dst_cid = VMADDR_CID_HOST;
  h.src_port = src_port;
  h.dst_port = dst_port;
  h.len = len;
  h.type = VIRTIO_VSOCK_TYPE_STREAM;
  h.op = op;
  h.buf_alloc = 256 * 1024;
  memcpy(at, &h, sizeof h);
}

// Malformed rings, one per device reset.
static void descriptor_attacks(int indirect_offered) {
  struct vring_desc* d;

  bring_up(phys[3], 0);
  d = tx_desc();
  d[0] = (struct vring_desc){.addr = OUTSIDE_RAM, .len = 64};
  post_tx(0, 1);
  say("outside-ram", verdict());

  bring_up(phys[3], 0);
  d = tx_desc();
  d[0] = (struct vring_desc){.addr = ~0ull - kPage + 1, .len = 2 * kPage};
  post_tx(0, 1);
  say("wrapping", verdict());

  bring_up(phys[3], 0);
  d = tx_desc();
  fill_request(pages[14], VIRTIO_VSOCK_OP_REQUEST, 7000, kCreditPort, 0);
  d[0] = (struct vring_desc){.addr = phys[14], .len = 44, .flags = VRING_DESC_F_NEXT, .next = 1};
  d[1] = (struct vring_desc){.addr = phys[15], .len = 64, .flags = VRING_DESC_F_NEXT, .next = 0};
  post_tx(0, 1);
  say("loop", verdict());

  bring_up(phys[3], 0);
  d = tx_desc();
  d[0] = (struct vring_desc){.addr = phys[14], .len = 44, .flags = VRING_DESC_F_NEXT, .next = 999};
  post_tx(0, 1);
  say("next-out-of-range", verdict());

  bring_up(phys[3], 0);
  d = tx_desc();
  fill_request(pages[14], VIRTIO_VSOCK_OP_REQUEST, 7001, kCreditPort, 0);
  d[0] = (struct vring_desc){.addr = phys[14], .len = 44};
  post_tx(0, 1000);
  say("avail-index-jump", verdict());

  // The device checks the rings when the driver sets DRIVER_OK.
  uint32_t st = bring_up(OUTSIDE_RAM, 0);
  say("rings-outside-ram", (st & VIRTIO_CONFIG_S_NEEDS_RESET) ? "needs_reset" : verdict());

  if (indirect_offered) {
    bring_up(phys[3], 1);
    d = tx_desc();
    d[0] = (struct vring_desc){.addr = OUTSIDE_RAM, .len = 16 * 4, .flags = VRING_DESC_F_INDIRECT};
    post_tx(0, 1);
    say("indirect-outside-ram", verdict());
  } else {
    say("indirect-outside-ram", "not_offered");
  }
}

// Waits for the device to put a packet for `port` with op `op` on the rx
// queue (recycling every buffer it reads). Returns 1 when it came.
static int wait_rx(uint16_t* seen_used, uint32_t port, uint16_t op, int ms) {
  for (int t = 0; t <= ms; ++t) {  // looks at least once
    struct vring_used* u = rx_used();
    while (*seen_used != u->idx) {
      __sync_synchronize();
      struct vring_used_elem e = u->ring[*seen_used % kQueueSize];
      ++*seen_used;
      struct virtio_vsock_hdr h;
      memcpy(&h, pages[6 + (e.id % 8)], sizeof h);
      struct vring_avail* a = rx_avail();
      a->ring[a->idx % kQueueSize] = (uint16_t)e.id;
      __sync_synchronize();
      a->idx++;
      wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
      if (h.dst_port == port && h.op == op) return 1;
    }
    sleep_ms(1);
  }
  return 0;
}

// A stream to a host peer that reads nothing, then data sent without regard
// for the credit the VMM gave: the VMM must reset the stream rather than
// buffer what it never promised to take.
static void credit_attack(void) {
  bring_up(phys[3], 0);
  struct vring_desc* rd_ = rx_desc();
  for (uint16_t i = 0; i < 8; ++i) {
    rd_[i] = (struct vring_desc){.addr = phys[6 + i], .len = kPage, .flags = VRING_DESC_F_WRITE};
    rx_avail()->ring[i] = i;
  }
  __sync_synchronize();
  rx_avail()->idx = 8;
  wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
  uint16_t seen = 0;

  const uint32_t port = 7100;
  struct vring_desc* d = tx_desc();
  fill_request(pages[14], VIRTIO_VSOCK_OP_REQUEST, port, kCreditPort, 0);
  d[0] = (struct vring_desc){.addr = phys[14], .len = 44};
  post_tx(0, 1);
  if (!wait_rx(&seen, port, VIRTIO_VSOCK_OP_RESPONSE, 5000)) {
    say("credit-lie", "no_response");
    return;
  }
  // 8 MiB in 4 KiB packets, far past the 256 KiB of credit and what the
  // host socket's buffer holds.
  uint32_t payload = kPage - 64;
  for (int i = 0; i < 8; ++i)
    fill_request(pages[14 + i], VIRTIO_VSOCK_OP_RW, port, kCreditPort, payload);
  for (uint32_t sent = 0; sent < 2048; ++sent) {
    uint16_t slot = (uint16_t)(sent % 8);
    d[slot] = (struct vring_desc){.addr = phys[14 + slot], .len = 44 + payload};
    // Keep at most 8 packets outstanding; a device that stops taking them
    // holds the guest back (also a defence), reported as such.
    int t = 0;
    for (; t < 5000 && (uint16_t)(tx_avail()->idx - tx_used()->idx) >= 8; ++t) sleep_ms(1);
    if (t == 5000) {
      char what[64];
      snprintf(what, sizeof what, "tx_stalled_after_kib=%u", sent * payload / 1024);
      say("credit-lie", what);
      return;
    }
    post_tx(slot, 1);
    if (wait_rx(&seen, port, VIRTIO_VSOCK_OP_RST, 0)) {
      char what[64];
      snprintf(what, sizeof what, "rst_after_kib=%u", (sent + 1) * payload / 1024);
      say("credit-lie", what);
      return;
    }
  }
  say("credit-lie",
      wait_rx(&seen, port, VIRTIO_VSOCK_OP_RST, 3000) ? "rst_after_kib=8192" : "no_rst");
}

// The kernel's driver again, and more streams than the VMM will hold.
static void stream_flood(void) {
  struct rlimit lim = {kFloodStreams + 64, kFloodStreams + 64};
  setrlimit(RLIMIT_NOFILE, &lim);
  static int fds[kFloodStreams];
  int ok = 0, refused = 0;
  for (int i = 0; i < kFloodStreams; ++i) {
    int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_vm addr = {
        .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = kFloodPort};
    if (fd >= 0 && connect(fd, (struct sockaddr*)&addr, sizeof addr) == 0) {
      fds[ok++] = fd;
    } else {
      ++refused;
      if (fd >= 0) close(fd);
    }
  }
  char what[64];
  snprintf(what, sizeof what, "ok=%d refused=%d", ok, refused);
  say("stream-flood", what);
  for (int i = 0; i < ok; ++i) close(fds[i]);
  sleep_ms(2000);  // the VMM sees the guest's RSTs and frees its streams
  int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_vm addr = {
      .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = kFloodPort};
  int again = fd >= 0 && connect(fd, (struct sockaddr*)&addr, sizeof addr) == 0;
  say("stream-after-flood", again ? "ok" : strerror(errno));
  if (fd >= 0) close(fd);
}

void attack_tests(void) {
  mount("sysfs", "/sys", "sysfs", 0, NULL);
  uint64_t base = 0;
  int slot = find_vsock_slot(&base);
  if (slot < 0) {
    say("setup", "no_vsock_device");
    return;
  }
  char name[32];
  snprintf(name, sizeof name, "virtio-mmio.%d", slot);
  if (write_text("/sys/bus/platform/drivers/virtio-mmio/unbind", name) != 0) {
    say("setup", "unbind_failed");
    return;
  }
  int mem = open("/dev/mem", O_RDWR | O_SYNC);
  void* m = mem < 0 ? MAP_FAILED
                    : mmap(NULL, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, mem, (off_t)base);
  if (m == MAP_FAILED || map_pages() != 0) {
    printf("VMRT_ATTACK setup failed: %s\n", strerror(errno));
    fflush(stdout);
    return;
  }
  regs = m;
  wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
  int indirect = (rd(VIRTIO_MMIO_DEVICE_FEATURES) >> VIRTIO_RING_F_INDIRECT_DESC) & 1;
  say("setup", "driving");

  descriptor_attacks(indirect);
  credit_attack();

  wr(VIRTIO_MMIO_STATUS, 0);
  munmap(m, kPage);
  close(mem);
  if (write_text("/sys/bus/platform/drivers/virtio-mmio/bind", name) != 0) {
    say("rebind", strerror(errno));
    return;
  }
  say("rebind", "ok");
  stream_flood();
}
