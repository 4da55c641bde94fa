// A container process going for the agent (agent_isolation_test.cpp). Static,
// copied into the container's rootfs. One line per attempt, then "PROBE DONE".
//
//   agent_probe vsock   connects to the agent's port through CIDs 1, 2, 3
//                       and VMADDR_CID_ANY; where a connection is made,
//                       sends a valid ttrpc call (Agent.Health) and says
//                       whether a reply came
//   agent_probe mem     for every other process it sees: reads its memory
//                       through /proc/PID/mem and tries to ptrace it
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

enum { kAgentPort = 1024 };

// A protobuf length-delimited field (tag and one-byte length: short values).
static size_t put_field(uint8_t* out, uint8_t field, const char* value) {
  size_t len = strlen(value);
  out[0] = (uint8_t)(field << 3 | 2);
  out[1] = (uint8_t)len;
  memcpy(out + 2, value, len);
  return 2 + len;
}

// A ttrpc frame: big-endian length and stream id, type 1 (request), flags 0,
// then ttrpc.Request{service, method} with an empty HealthRequest payload.
static size_t health_request(uint8_t* frame) {
  uint8_t* payload = frame + 10;
  size_t n = put_field(payload, 1, "vmrt.agent.v1.Agent");
  n += put_field(payload + n, 2, "Health");
  uint32_t len = htonl((uint32_t)n), stream = htonl(1);
  memcpy(frame, &len, 4);
  memcpy(frame + 4, &stream, 4);
  frame[8] = 1;
  frame[9] = 0;
  return 10 + n;
}

static void try_cid(unsigned cid) {
  printf("cid %u: ", cid);
  int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    printf("socket failed: %s\n", strerror(errno));
    return;
  }
  struct sockaddr_vm addr = {.svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = kAgentPort};
  if (connect(s, (struct sockaddr*)&addr, sizeof addr) < 0) {
    printf("connect failed: %s\n", strerror(errno));
    close(s);
    return;
  }
  uint8_t frame[64];
  size_t len = health_request(frame);
  ssize_t sent = send(s, frame, len, MSG_NOSIGNAL);
  // An agent that serves answers Health at once; one that refused has
  // closed. Still open and silent after this long is neither.
  struct timeval wait = {.tv_sec = 60};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  uint8_t reply[256];
  ssize_t got = recv(s, reply, sizeof reply, 0);
  if (got > 0)
    printf("REPLY (%zd bytes)\n", got);
  else if (got == 0 || errno == ECONNRESET || errno == EPIPE)
    printf("closed without a reply (sent %zd of %zu bytes)\n", sent, len);
  else if (errno == EAGAIN)
    printf("open and silent\n");
  else
    printf("receive failed: %s\n", strerror(errno));
  close(s);
}

// The start address of `pid`'s first mapping, 0 when its maps are closed to us.
static unsigned long first_mapping(int pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/maps", pid);
  FILE* f = fopen(path, "re");
  unsigned long start = 0;
  if (f) {
    if (fscanf(f, "%lx", &start) != 1) start = 0;
    fclose(f);
  }
  return start;
}

static void peek(int pid) {
  char path[64], comm[32] = "?";
  snprintf(path, sizeof path, "/proc/%d/comm", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = read(fd, comm, sizeof comm - 1);
    comm[n > 0 ? n : 0] = '\0';
    comm[strcspn(comm, "\n")] = '\0';
    close(fd);
  }
  printf("pid %d (%s): ", pid, comm);
  snprintf(path, sizeof path, "/proc/%d/mem", pid);
  int mem = open(path, O_RDONLY | O_CLOEXEC);
  if (mem < 0) {
    printf("mem: %s", strerror(errno));
  } else {
    unsigned long at = first_mapping(pid);
    char buf[16];
    ssize_t n = pread(mem, buf, sizeof buf, (off_t)at);
    if (n < 0)
      printf("mem: opened, read at %#lx: %s", at, strerror(errno));
    else
      printf("mem: read %zd bytes at %#lx", n, at);
    close(mem);
  }
  // Seized, not stopped: the tracee runs on and is let go when we exit.
  if (ptrace(PTRACE_SEIZE, pid, 0, 0) < 0)
    printf("; ptrace: %s\n", strerror(errno));
  else
    printf("; ptrace: attached\n");
}

static void peek_all(void) {
  DIR* proc = opendir("/proc");
  if (!proc) {
    printf("opendir /proc: %s\n", strerror(errno));
    return;
  }
  int self = getpid();
  struct dirent* e;
  while ((e = readdir(proc)) != NULL) {
    int pid = atoi(e->d_name);
    if (pid > 0 && pid != self) peek(pid);
  }
  closedir(proc);
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 2 && strcmp(argv[1], "vsock") == 0) {
    const unsigned cids[] = {VMADDR_CID_LOCAL, VMADDR_CID_HOST, 3, VMADDR_CID_ANY};
    for (size_t i = 0; i < sizeof cids / sizeof cids[0]; ++i) try_cid(cids[i]);
  } else if (argc == 2 && strcmp(argv[1], "mem") == 0) {
    peek_all();
  } else {
    fprintf(stderr, "usage: agent_probe vsock|mem\n");
    return 2;
  }
  printf("PROBE DONE\n");
  return 0;
}
