#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/container_id.h"
#include "common/error.h"
#include "common/unix_socket.h"
#include "shim/commands.h"
#include "shim/pod_location.h"

namespace vmrt::shim {
namespace {

namespace fs = std::filesystem;

// Written whole or not at all: containerd may read it at any time.
void write_address_file(const fs::path& bundle, const std::string& address) {
  fs::path tmp = bundle / ".address";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << address;
    if (!out.flush()) fail("cannot write {}", tmp.string());
  }
  fs::rename(tmp, bundle / "address");
}

// The daemon: this binary again, without the action, in its own session,
// holding nothing of ours but the listening socket. containerd collects our
// combined output until every copy of it closes, so the daemon must not
// inherit stdout or stderr.
void spawn_daemon(const ShimArgs& args, UniqueFd listener) {
  // argv[0] is the binary's path, as for the `start` containerd ran: what
  // ps and pgrep show.
  std::vector<std::string> argv = {fs::read_symlink("/proc/self/exe").string()};
  for (auto& a : serve_args(args)) argv.push_back(a);
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = check_sys(::fork(), "fork the shim daemon");
  if (pid == 0) {
    ::setsid();
    int null = ::open("/dev/null", O_RDWR);
    if (null < 0) _exit(127);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    // dup2 onto itself would keep close-on-exec.
    if (listener.get() == kListenerFd) {
      if (::fcntl(kListenerFd, F_SETFD, 0) < 0) _exit(127);
    } else if (::dup2(listener.get(), kListenerFd) < 0) {
      _exit(127);
    }
    ::execv("/proc/self/exe", cargv.data());
    _exit(127);
  }
}

}  // namespace

int start_command(const ShimArgs& args) {
  check_container_id(args.id);
  fs::path bundle = args.bundle.empty() ? fs::current_path() : fs::path(args.bundle);
  oci::Spec spec = oci::load_spec(bundle, oci::Purpose::Inspect);
  std::string pod = pod_of(args.id, spec.annotations);
  PodLocation where = locate_pod(args.address, args.namespace_, pod);

  if (!shim_running(where)) {
    if (pod != args.id) fail("task {} belongs to pod {}, whose shim is not running", args.id, pod);
    fs::create_directories(where.dir);
    ::chmod(where.dir.c_str(), 0700);
    fs::remove(where.socket);  // a dead shim's
    spawn_daemon(args, listen_unix(where.socket));
  }
  write_address_file(bundle, where.address());
  std::fputs(where.address().c_str(), stdout);
  return 0;
}

}  // namespace vmrt::shim
