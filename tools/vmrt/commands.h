#pragma once
// The vmrt commands, one function each, called by main after parsing. Each
// returns the process exit status; errors are thrown as vmrt::Error and
// printed by main.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tools/vmrt/globals.h"

namespace vmrt::cli {

struct CreateArgs {
  std::string id;
  std::string bundle = ".";
  std::string pid_file;
  std::string console_socket;
  bool detach = false;  // run only; create always detaches
  bool keep = false;    // run only: keep the stopped container (runc deletes it)
  bool no_pivot = false, no_new_keyring = false;  // runc flags, no meaning in a VM
  int preserve_fds = 0;
};
int cmd_create(const Globals& g, const CreateArgs& a);
int cmd_run(const Globals& g, const CreateArgs& a);

int cmd_start(const Globals& g, const std::string& id);
int cmd_state(const Globals& g, const std::string& id);

struct KillArgs {
  std::string id;
  std::string signal = "SIGTERM";
  bool all = false;
};
int cmd_kill(const Globals& g, const KillArgs& a);

int cmd_delete(const Globals& g, const std::string& id, bool force);

struct ListArgs {
  std::string format = "table";
  bool quiet = false;
};
int cmd_list(const Globals& g, const ListArgs& a);

struct ExecArgs {
  std::string id;
  std::vector<std::string> args;
  std::string process_file;
  bool tty = false;
  bool detach = false;
  std::string pid_file;
  std::string console_socket;
  std::string cwd;
  std::vector<std::string> env;
  std::string user;  // uid[:gid]
  std::vector<std::string> additional_gids;
  std::vector<std::string> caps;
  bool no_new_privs = false;
};
int cmd_exec(const Globals& g, const ExecArgs& a);
// A root shell in the container's guest, outside every container; only
// with the configuration's [debug] console = true.
int cmd_debug_console(const Globals& g, const std::string& id);

int cmd_ps(const Globals& g, const std::string& id, const std::string& format);

struct EventsArgs {
  std::string id;
  std::string interval = "5s";  // a Go duration, as runc takes it
  bool stats = false;           // one stats event, then exit
};
int cmd_events(const Globals& g, const EventsArgs& a);
// Go's time.ParseDuration for the forms runc users write ("5s", "1m30s").
std::chrono::nanoseconds parse_go_duration(const std::string& text);
int cmd_pause(const Globals& g, const std::string& id);
int cmd_resume(const Globals& g, const std::string& id);

struct UpdateArgs {
  std::string id;
  std::string resources;  // file or "-"
  std::optional<std::string> memory, memory_swap, cpu_quota, cpu_period, cpu_shares, cpuset_cpus,
      cpuset_mems, pids_limit;
};
int cmd_update(const Globals& g, const UpdateArgs& a);

int cmd_spec(const std::string& bundle);
int cmd_features(const Globals& g);

struct CheckArgs {
  std::string containerd_config = "/etc/containerd/config.toml";
  std::string format = "text";  // or json
};
// Exit status 0 when every required check passes, 1 otherwise.
int cmd_check(const Globals& g, const CheckArgs& a);

}  // namespace vmrt::cli
