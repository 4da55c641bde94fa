// /init of the test guests: reports what the guest was given, then does what
// VMRT_TEST_ACTION (an unknown key=value on the kernel command line, which the
// kernel hands to init as an environment variable) asks: reboot (default),
// poweroff, panic (init exits, so the kernel panics), hang, or vsock (the
// guest half of the vsock tests, then hang). Reboot is the
// default because a micro-VM without ACPI has no poweroff device: as with
// Firecracker, the guest ends the VM by resetting it (i8042 or triple fault).
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/vm_sockets.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <unistd.h>

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
  struct sockaddr_vm addr = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = kHostPort};
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
  struct sockaddr_vm addr = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = kEchoPort};
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
  if (strcmp(action, "vsock") == 0) vsock_tests();
  if (strcmp(action, "hang") == 0 || strcmp(action, "vsock") == 0)
    for (;;) pause();
  sync();
  reboot(strcmp(action, "poweroff") == 0 ? RB_POWER_OFF : RB_AUTOBOOT);
  return 1;
}
