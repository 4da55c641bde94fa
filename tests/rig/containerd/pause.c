// /pause of the test pause image (the CRI sandbox container): holds the
// pod's namespaces until told to stop. As PID 1 of its pid namespace it gets
// only the signals it handles, so SIGTERM and SIGINT are handled (exit 0)
// and orphans reparented to it are reaped, as Kubernetes' pause does.
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int sig) {
  (void)sig;
  _exit(0);
}

static void reap(int sig) {
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(void) {
  struct sigaction down = {.sa_handler = stop};
  struct sigaction child = {.sa_handler = reap, .sa_flags = SA_NOCLDSTOP};
  if (sigaction(SIGTERM, &down, NULL) < 0 || sigaction(SIGINT, &down, NULL) < 0 ||
      sigaction(SIGCHLD, &child, NULL) < 0)
    return 1;
  for (;;) pause();
}
