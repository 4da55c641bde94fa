#include <malloc.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>

#include "common/container_id.h"
#include "common/error.h"
#include "common/tempdir.h"
#include "common/ttrpc/server.h"
#include "sandbox/sandbox.h"
#include "shim/commands.h"
#include "shim/events.h"
#include "shim/fifo_log_sink.h"
#include "shim/pod_location.h"
#include "shim/task_service.h"

namespace vmrt::shim {

using namespace std::chrono_literals;

int serve_command(const ShimArgs& args) {
  check_container_id(args.id);
  std::filesystem::path bundle =
      args.bundle.empty() ? std::filesystem::current_path() : std::filesystem::path(args.bundle);
  // Both need a process with a single thread: before anything starts one.
  // Rootfs and share mounts then stay in the shim (and its VMM) and vanish
  // with them; SIGTERM/SIGINT are taken by sigtimedwait below.
  sandbox::enter_private_mount_namespace();
  // One shim per pod, mostly idle, with a dozen threads (ttrpc connections,
  // process waiters, gRPC's own): glibc would give each thread its own heap
  // arena, each holding freed memory; one arena keeps the shim's memory
  // close to what it uses, and it has no allocation-heavy threads to contend.
  ::mallopt(M_ARENA_MAX, 1);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  ::sigprocmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  init_shim_logging(bundle, args.debug);

  struct stat st {};
  if (::fstat(kListenerFd, &st) < 0 || !S_ISSOCK(st.st_mode))
    fail("no listening socket on fd {}: the shim daemon is started by `{} start`", kListenerFd,
         "containerd-shim-vmrt-v1");
  UniqueFd listener(kListenerFd);

  oci::Spec spec = oci::load_spec(bundle, oci::Purpose::Inspect);
  PodLocation where = locate_pod(args.address, args.namespace_, pod_of(args.id, spec.annotations));
  const char* ttrpc_address = std::getenv("TTRPC_ADDRESS");
  EventPublisher events(ttrpc_address ? ttrpc_address : "", args.namespace_);
  int code = 0;
  bool keep = false;
  {
    TaskService service(args, where, events);
    ttrpc::ServerOptions o;
    o.shutdown_grace = 2s;
    o.require_same_user = true;
    ttrpc::Server server(o);
    service.register_methods(server);
    server.start(std::move(listener));
    spdlog::info("serving task {} on {}", args.id, where.address());
    for (;;) {
      timespec tick{0, 200'000'000};
      int sig = ::sigtimedwait(&stop_signals, nullptr, &tick);
      if (sig > 0) {
        spdlog::info("signal {}: stopping", sig);
        code = 128 + sig;
        break;
      }
      if (service.shutdown_requested()) break;
    }
    service.stop();
    server.shutdown();
    keep = service.mounts_left();
  }
  if (keep) {
    spdlog::error("keeping {}: a mount in it could not be removed", where.dir.string());
  } else {
    try {
      remove_tree(where.dir);  // never into a mount
    } catch (const Error& e) {
      spdlog::error("{}", e.what());
    }
  }
  spdlog::info("shim for {} exits", args.id);
  return code;
}

}  // namespace vmrt::shim
