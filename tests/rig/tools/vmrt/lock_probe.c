/* A container's processes taking POSIX locks on a file of the pod's shared
 * file system (virtio-fs), for lock_wait_test.cpp. Static, to run in a
 * busybox rootfs. Each line it prints is one write(2), so the lines of
 * several probes sharing stdout keep their order.
 *
 *   lock_probe hold FILE GO   write-locks FILE, prints "held", keeps the
 *                             lock until the file GO exists, then prints
 *                             "releasing" and unlocks
 *   lock_probe wait FILE      waits for the write lock (F_SETLKW), prints
 *                             "got"
 *   lock_probe io DIR N GO    N rounds of write, read back and unlink of a
 *                             file in DIR, prints "io done", then creates GO
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void say(const char* who, const char* what) {
  char line[128];
  int n = snprintf(line, sizeof line, "%s %s\n", who, what);
  if (write(STDOUT_FILENO, line, (size_t)n) != n) _exit(3);
}

static int lock(int fd, short type, int cmd) {
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  return fcntl(fd, cmd, &fl);
}

int main(int argc, char** argv) {
  if (argc >= 4 && strcmp(argv[1], "hold") == 0) {
    int fd = open(argv[2], O_RDWR | O_CREAT, 0644);
    if (fd < 0 || lock(fd, F_WRLCK, F_SETLKW) < 0) return perror("hold"), 1;
    say("A", "held");
    while (access(argv[3], F_OK) != 0) usleep(100000);
    say("A", "releasing"); /* before: the waiter may print as soon as it is done */
    if (lock(fd, F_UNLCK, F_SETLK) < 0) return perror("unlock"), 1;
    return 0;
  }
  if (argc >= 3 && strcmp(argv[1], "wait") == 0) {
    int fd = open(argv[2], O_RDWR);
    if (fd < 0 || lock(fd, F_WRLCK, F_SETLKW) < 0) return perror("wait"), 1;
    say("B", "got");
    return 0;
  }
  if (argc >= 5 && strcmp(argv[1], "io") == 0) {
    char path[4096], buf[64];
    int rounds = atoi(argv[3]);
    for (int i = 0; i < rounds; ++i) {
      snprintf(path, sizeof path, "%s/io-%d", argv[2], i);
      int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
      if (fd < 0 || write(fd, "data", 4) != 4 || pread(fd, buf, sizeof buf, 0) != 4)
        return perror("io"), 1;
      close(fd);
      unlink(path);
    }
    /* Said before GO exists: once it does, A's "releasing" may come first. */
    say("C", "io done");
    int go = open(argv[4], O_WRONLY | O_CREAT, 0644);
    if (go < 0) return perror("go"), 1;
    close(go);
    return 0;
  }
  fprintf(stderr, "usage: lock_probe hold FILE GO | wait FILE | io DIR N GO\n");
  return 2;
}
