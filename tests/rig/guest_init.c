// /init of the test guests: reports what the guest was given, then does what
// VMRT_TEST_ACTION (an unknown key=value on the kernel command line, which the
// kernel hands to init as an environment variable) asks: reboot (default),
// poweroff, panic (init exits, so the kernel panics) or hang. Reboot is the
// default because a micro-VM without ACPI has no poweroff device: as with
// Firecracker, the guest ends the VM by resetting it (i8042 or triple fault).
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
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
  if (strcmp(action, "hang") == 0)
    for (;;) pause();
  sync();
  reboot(strcmp(action, "poweroff") == 0 ? RB_POWER_OFF : RB_AUTOBOOT);
  return 1;
}
