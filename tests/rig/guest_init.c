// /init of the test guests: reports what the guest was given, then does what
// VMRT_TEST_ACTION (an unknown key=value on the kernel command line, which the
// kernel hands to init as an environment variable) asks: reboot (default),
// poweroff, panic (init exits, so the kernel panics), hang, vsock (the
// guest half of the vsock tests, then hang), attack (the hostile driver of
// guest_attack.c, then as vsock), virtiofs (a file workload on
// the virtio-fs share tagged "vmrt", then reboot), memload (every vCPU
// fills VMRT_TEST_MIB over VMRT_TEST_ROUNDS, then reboot), forkload (every
// vCPU forks short-lived children for VMRT_TEST_SECONDS: address spaces
// made and torn down, copy-on-write faults, TLB shootdowns between the
// vCPUs; then reboot), shload (the same churn as a container's shell
// loops make it: busybox's sh forking and exec'ing /bin/true in two loops
// for VMRT_TEST_SECONDS; then reboot) or netserve (eth0 at
// VMRT_TEST_IP/24 with a TCP echo server and a sink, for
// tools/bench/vm_network.sh, then hang). Reboot is the
// default because a micro-VM without ACPI has no poweroff device: as with
// Firecracker, the guest ends the VM by resetting it (i8042 or triple fault).
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest_attack.h"

static long mem_total_kib(void) {
  FILE* f = fopen("/proc/meminfo", "r");
  char line[256];
  long kib = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "MemTotal: %ld kB", &kib) == 1) break;
  if (f) fclose(f);
  return kib;
}

// Guest port of the echo server, and the host port the guest connects to.
enum { kEchoPort = 5000, kHostPort = 6000 };
// TCP ports of the netserve action's echo server and sink.
enum { kNetEchoPort = 5001, kNetSinkPort = 5002 };

static int vsock_socket(void) { return socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0); }

// Echoes one connection until the host half-closes it, then closes.
static void echo(int fd) {
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(fd, buf + off, (size_t)(n - off));
      if (w <= 0) return;
      off += w;
    }
}

// Guest to host: one line out, one line back, reported on the console.
static void call_host(void) {
  int fd = vsock_socket();
  struct sockaddr_vm addr = {
      .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = kHostPort};
  char reply[128] = {0};
  if (fd < 0 || connect(fd, (struct sockaddr*)&addr, sizeof addr) < 0) {
    printf("VMRT_VSOCK_G2H failed connect: %m\n");
  } else {
    const char msg[] = "hello from the guest\n";
    ssize_t n = write(fd, msg, sizeof msg - 1);
    ssize_t r = n > 0 ? read(fd, reply, sizeof reply - 1) : -1;
    if (r > 0 && reply[r - 1] == '\n') reply[r - 1] = 0;
    printf("VMRT_VSOCK_G2H %s %s\n", r > 0 ? "ok" : "failed", reply);
  }
  fflush(stdout);
  if (fd >= 0) close(fd);
}

static void vsock_tests(void) {
  signal(SIGCHLD, SIG_IGN);  // echo children are reaped by the kernel
  int lfd = vsock_socket();
  struct sockaddr_vm addr = {
      .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = kEchoPort};
  if (lfd < 0 || bind(lfd, (struct sockaddr*)&addr, sizeof addr) < 0 || listen(lfd, 128) < 0) {
    printf("VMRT_VSOCK_FAILED listen: %m\n");
    fflush(stdout);
    return;
  }
  printf("VMRT_VSOCK_READY port=%d\n", kEchoPort);
  fflush(stdout);
  if (fork() == 0) {
    call_host();
    _exit(0);
  }
  for (;;) {
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) continue;
    if (fork() == 0) {
      echo(fd);
      _exit(0);
    }
    close(fd);
  }
}

// Prints the first line of `path` after `label`, or the error.
static void print_file(const char* label, const char* path) {
  char buf[256] = {0};
  int fd = open(path, O_RDONLY);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
  if (n > 0 && buf[n - 1] == '\n') buf[n - 1] = 0;
  if (n < 0)
    printf("%s error %s\n", label, strerror(errno));
  else
    printf("%s %s\n", label, buf);
  if (fd >= 0) close(fd);
}

static int write_file(const char* path, const char* text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return -1;
  int ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text) && fsync(fd) == 0;
  return close(fd) == 0 && ok ? 0 : -1;
}

// The guest half of the virtio-fs rig test: every step reports on the
// console; the host checks the tree afterwards.
static void virtiofs_tests(void) {
  mkdir("/mnt", 0755);
  if (mount("vmrt", "/mnt", "virtiofs", 0, NULL) != 0) {
    printf("VMRT_FS_FAILED mount: %m\n");
    return;
  }
  printf("VMRT_FS_MOUNTED\n");
  print_file("VMRT_FS_HOST", "/mnt/from_host.txt");
  int ok = mkdir("/mnt/g", 0755) == 0 && write_file("/mnt/g/a.txt", "guest data\n") == 0;
  printf("VMRT_FS_WRITE %s\n", ok ? "ok" : strerror(errno));
  print_file("VMRT_FS_READBACK", "/mnt/g/a.txt");
  printf("VMRT_FS_RENAME %s\n",
         rename("/mnt/g/a.txt", "/mnt/g/b.txt") == 0 ? "ok" : strerror(errno));
  ok = write_file("/mnt/g/c.txt", "temporary\n") == 0 && unlink("/mnt/g/c.txt") == 0;
  printf("VMRT_FS_UNLINK %s\n", ok ? "ok" : strerror(errno));
  DIR* d = opendir("/mnt/g");
  printf("VMRT_FS_LIST");
  for (struct dirent* e; d && (e = readdir(d));)
    if (e->d_name[0] != '.') printf(" %s", e->d_name);
  printf("\n");
  if (d) closedir(d);
  printf("VMRT_FS_WORKLOAD_DONE\n");
  fflush(stdout);
  // The host now changes the tree behind the guest's back.
  struct stat st;
  for (int i = 0; i < 600 && stat("/mnt/host_changed.txt", &st) != 0; ++i) usleep(100000);
  print_file("VMRT_FS_CHANGED", "/mnt/host_changed.txt");
  umount("/mnt");
  fflush(stdout);
}

// Sets an interface's address (or netmask, by `request`) from dotted quad.
static int set_inet(int s, const char* ifname, unsigned long request, const char* dotted) {
  struct ifreq ifr = {0};
  struct sockaddr_in* a = (struct sockaddr_in*)&ifr.ifr_addr;
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
  a->sin_family = AF_INET;
  if (inet_pton(AF_INET, dotted, &a->sin_addr) != 1) return -1;
  return ioctl(s, request, &ifr);
}

static int link_up(int s, const char* ifname) {
  struct ifreq ifr = {0};
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) return -1;
  ifr.ifr_flags |= IFF_UP;
  return ioctl(s, SIOCSIFFLAGS, &ifr);
}

static int tcp_listener(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, (struct sockaddr*)&a, sizeof a) < 0 || listen(fd, 16) < 0) return -1;
  return fd;
}

// Reads a connection to its end, then closes it: the sender's end of file
// comes back as ours once everything it sent has arrived.
static void sink(int fd) {
  static char buf[1 << 18];
  while (read(fd, buf, sizeof buf) > 0) {
  }
}

// The guest half of tools/bench/vm_network.sh: the same servers under any
// VMM, so that only the VMM's network path differs.
static void net_serve(void) {
  const char* ip = getenv("VMRT_TEST_IP");
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (ip == NULL || s < 0 || link_up(s, "lo") < 0 || set_inet(s, "eth0", SIOCSIFADDR, ip) < 0 ||
      set_inet(s, "eth0", SIOCSIFNETMASK, "255.255.255.0") < 0 || link_up(s, "eth0") < 0) {
    printf("VMRT_NET_FAILED configuring eth0 as %s: %m\n", ip ? ip : "(no VMRT_TEST_IP)");
    return;
  }
  close(s);
  int echo_fd = tcp_listener(kNetEchoPort), sink_fd = tcp_listener(kNetSinkPort);
  if (echo_fd < 0 || sink_fd < 0) {
    printf("VMRT_NET_FAILED listen: %m\n");
    return;
  }
  signal(SIGCHLD, SIG_IGN);
  printf("VMRT_NET_READY ip=%s echo=%d sink=%d\n", ip, kNetEchoPort, kNetSinkPort);
  fflush(stdout);
  struct pollfd fds[2] = {{.fd = echo_fd, .events = POLLIN}, {.fd = sink_fd, .events = POLLIN}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      int fd = accept(fds[i].fd, NULL, NULL), one = 1;
      if (fd < 0) continue;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (fork() == 0) {
        i == 0 ? echo(fd) : sink(fd);
        _exit(0);
      }
      close(fd);
    }
  }
}

static long env_long(const char* name, long fallback) {
  const char* v = getenv(name);
  return v ? strtol(v, NULL, 10) : fallback;
}

// Memory pressure on every vCPU at once: page faults, zeroing and the TLB
// shootdowns of munmap, which is what an SMP guest under load does most.
static void memload_tests(void) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  size_t each = (size_t)env_long("VMRT_TEST_MIB", 256) / (size_t)cpus << 20;
  long rounds = env_long("VMRT_TEST_ROUNDS", 4);
  for (long c = 0; c < cpus; ++c) {
    if (fork() != 0) continue;
    for (long r = 0; r < rounds; ++r) {
      char* p = mmap(NULL, each, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) _exit(1);
      memset(p, (int)r + 1, each);
      munmap(p, each);
    }
    _exit(0);
  }
  int failed = 0;
  for (int status; wait(&status) > 0;) failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  printf("VMRT_MEMLOAD_DONE cpus=%ld mib=%zu rounds=%ld failed=%d\n", cpus, (each >> 20) * cpus,
         rounds, failed);
}

// Process churn on every vCPU: each child writes a page its parent wrote
// (copy on write) and a fresh one, then exits.
static void forkload_tests(void) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  long seconds = env_long("VMRT_TEST_SECONDS", 30);
  char* shared = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) shared = NULL;
  for (long c = 0; c < cpus; ++c) {
    if (fork() != 0) continue;
    char* own = malloc(1 << 20);
    if (own == NULL) _exit(1);
    memset(own, 1, 1 << 20);
    time_t end = time(NULL) + seconds;
    long forks = 0;
    while (time(NULL) < end) {
      pid_t pid = fork();
      if (pid < 0) _exit(1);
      if (pid == 0) {
        own[(forks * 4096) % (1 << 20)] = 2;
        char* fresh = malloc(8192);
        if (fresh) fresh[0] = 3;
        _exit(own[1] == 1 ? 0 : 1);
      }
      int status;
      if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        _exit(1);
      ++forks;
    }
    if (shared) ((long*)shared)[c] = forks;
    _exit(0);
  }
  int failed = 0;
  for (int status; wait(&status) > 0;) failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  long forks = 0;
  for (long c = 0; shared && c < cpus; ++c) forks += ((long*)shared)[c];
  printf("VMRT_FORKLOAD_DONE cpus=%ld seconds=%ld forks=%ld failed=%d\n", cpus, seconds, forks,
         failed);
}

// What `soak.sh --run-load forkload` runs in a container, here without one:
// a shell's children exec a program (whose startup, in glibc, runs CPUID
// and so exits to the VMM) hundreds of times a second on every vCPU.
static void shload_tests(void) {
  long seconds = env_long("VMRT_TEST_SECONDS", 30);
  char script[512];
  snprintf(script, sizeof script,
           "read up _ < /proc/uptime; end=$((${up%%%%.*} + %ld)); "
           "loop() { n=0; while read up _ < /proc/uptime; [ ${up%%%%.*} -lt $end ]; "
           "do /bin/true; n=$((n + 1)); done; echo $n > /tmp/runs.$1; }; "
           "mkdir -p /tmp; loop 0 & loop 1; wait; read a < /tmp/runs.0; read b < /tmp/runs.1; "
           "echo VMRT_SHLOAD_DONE seconds=%ld runs=$((a + b)) failed=0",
           seconds, seconds);
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", script, (char*)NULL);
    _exit(127);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    printf("VMRT_SHLOAD_DONE failed=1 (the shell ended with status %d)\n", status);
}

int main(void) {
  // No /dev/console in the archive: open it once devtmpfs is up.
  mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
  int console = open("/dev/console", O_RDWR);
  if (console >= 0) {
    dup2(console, 0);
    dup2(console, 1);
    dup2(console, 2);
  }
  mount("proc", "/proc", "proc", 0, NULL);

  printf("VMRT_GUEST_READY cpus=%ld mem_kib=%ld\n", sysconf(_SC_NPROCESSORS_ONLN), mem_total_kib());
  fflush(stdout);

  const char* action = getenv("VMRT_TEST_ACTION");
  if (action == NULL) action = "reboot";
  if (strcmp(action, "panic") == 0) return 1;
  if (strcmp(action, "attack") == 0) {
    attack_tests();
    printf("VMRT_ATTACK_DONE\n");
    fflush(stdout);
    vsock_tests();
  }
  if (strcmp(action, "vsock") == 0) vsock_tests();
  if (strcmp(action, "virtiofs") == 0) virtiofs_tests();
  if (strcmp(action, "memload") == 0) memload_tests();
  if (strcmp(action, "forkload") == 0) forkload_tests();
  if (strcmp(action, "shload") == 0) shload_tests();
  if (strcmp(action, "netserve") == 0) net_serve();
  if (strcmp(action, "hang") == 0 || strcmp(action, "netserve") == 0 ||
      strcmp(action, "vsock") == 0 || strcmp(action, "attack") == 0)
    for (;;) pause();
  sync();
  reboot(strcmp(action, "poweroff") == 0 ? RB_POWER_OFF : RB_AUTOBOOT);
  return 1;
}
