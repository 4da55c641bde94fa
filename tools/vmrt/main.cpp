// vmrt: runc's command line, each container in its own KVM micro-VM.

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "common/error.h"
#include "tools/vmrt/commands.h"
#include "tools/vmrt/log_setup.h"

namespace vmrt::cli {
namespace {

// runc's flag parser accepts "-root" as well as "--root"; scripts written
// for runc use both. Long names given with one dash are rewritten.
std::vector<std::string> normalize_args(int argc, char** argv) {
  static const char* kLong[] = {"root",
                                "log",
                                "log-format",
                                "debug",
                                "config",
                                "systemd-cgroup",
                                "rootless",
                                "bundle",
                                "pid-file",
                                "console-socket",
                                "detach",
                                "force",
                                "all",
                                "format",
                                "quiet",
                                "process",
                                "tty",
                                "cwd",
                                "env",
                                "user",
                                "cap",
                                "no-new-privs",
                                "resources",
                                "no-pivot",
                                "no-new-keyring",
                                "preserve-fds",
                                "additional-gids"};
  std::vector<std::string> out;
  bool done = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") done = true;
    if (!done && a.size() > 2 && a[0] == '-' && a[1] != '-') {
      std::string name = a.substr(1, a.find('=') - 1);
      for (const char* l : kLong)
        if (name == l) a = "-" + a;
    }
    out.push_back(a);
  }
  std::reverse(out.begin(), out.end());  // CLI11 parses a reversed vector
  return out;
}

// The version and the runtime configuration in use (what --version of a
// runtime is asked for when a bug is reported).
std::string version_text(const Globals& g) {
  std::string text = fmt::format("vmrt version {}\nspec: 1.1.0", VMRT_VERSION);
  try {
    // --version acts while the flags are parsed: $VMRT_CONFIG is not in g yet.
    Globals with_env = g;
    if (with_env.config.empty() && std::getenv("VMRT_CONFIG"))
      with_env.config = std::getenv("VMRT_CONFIG");
    sandbox::RuntimeConfig c = with_env.runtime_config();
    text += fmt::format("\nconfig: {}\nvmm: {}\nkernel: {}\nimage: {}",
                        c.source.empty() ? "built-in defaults" : c.source.string(), c.vmm.string(),
                        c.kernel.string(), c.image.string());
  } catch (const std::exception& e) {
    text += fmt::format("\nconfig: {}", e.what());
  }
  return text + "\n";
}

int run(int argc, char** argv) {
  Globals g;
  CLI::App app{"vmrt: OCI containers, each in its own KVM micro-VM, with runc's commands", "vmrt"};
  app.set_version_flag("-v,--version", [&g] { return version_text(g); });
  app.require_subcommand(1);
  app.add_option("--root", g.root, "state directory (default /run/vmrt)");
  app.add_option("--log", g.log, "log file (default stderr)");
  app.add_option("--log-format", g.log_format, "text or json");
  app.add_flag("--debug", g.debug, "debug logging");
  app.add_option("--config", g.config, "runtime configuration file (default /etc/vmrt/config.toml)")
      ->envname("VMRT_CONFIG");
  app.add_flag("--systemd-cgroup", g.systemd_cgroup, "accepted for runc compatibility; ignored");
  std::string rootless;
  app.add_option("--rootless", rootless, "accepted for runc compatibility; ignored");

  std::function<int()> action;
  CreateArgs create;
  auto add_create_flags = [&](CLI::App* c) {
    c->add_option("id", create.id, "container id")->required();
    c->add_option("-b,--bundle", create.bundle, "bundle directory (default: current)");
    c->add_option("--pid-file", create.pid_file, "write the container's pid here");
    c->add_option("--console-socket", create.console_socket,
                  "Unix socket that receives the terminal's master");
    c->add_flag("--no-pivot", create.no_pivot, "accepted for runc compatibility");
    c->add_flag("--no-new-keyring", create.no_new_keyring, "accepted for runc compatibility");
    c->add_option("--preserve-fds", create.preserve_fds, "not supported: must be 0");
  };
  auto* c_create = app.add_subcommand("create", "create a container (not yet started)");
  add_create_flags(c_create);
  c_create->callback([&] { action = [&] { return cmd_create(g, create); }; });
  auto* c_run = app.add_subcommand("run", "create and start a container");
  add_create_flags(c_run);
  c_run->add_flag("-d,--detach", create.detach, "do not wait for the container");
  c_run->add_flag("--keep", create.keep, "do not delete the container after it exits");
  c_run->callback([&] { action = [&] { return cmd_run(g, create); }; });

  std::string id;
  auto* c_start = app.add_subcommand("start", "start a created container");
  c_start->add_option("id", id)->required();
  c_start->callback([&] { action = [&] { return cmd_start(g, id); }; });

  auto* c_debug = app.add_subcommand(
      "debug-console", "a root shell in the container's guest VM, outside every container");
  c_debug->add_option("id", id)->required();
  c_debug->callback([&] { action = [&] { return cmd_debug_console(g, id); }; });

  auto* c_state = app.add_subcommand("state", "print a container's OCI state");
  c_state->add_option("id", id)->required();
  c_state->callback([&] { action = [&] { return cmd_state(g, id); }; });

  KillArgs kill;
  auto* c_kill =
      app.add_subcommand("kill", "send a signal to a container's init (default SIGTERM)");
  c_kill->add_option("id", kill.id)->required();
  c_kill->add_option("signal", kill.signal, "name or number");
  c_kill->add_flag("-a,--all", kill.all, "signal every process of the container");
  c_kill->callback([&] { action = [&] { return cmd_kill(g, kill); }; });

  bool force = false;
  auto* c_delete = app.add_subcommand("delete", "delete a container and its sandbox VM");
  c_delete->add_option("id", id)->required();
  c_delete->add_flag("-f,--force", force, "delete even when running (kills it)");
  c_delete->callback([&] { action = [&] { return cmd_delete(g, id, force); }; });

  ListArgs list;
  auto* c_list = app.add_subcommand("list", "list containers");
  c_list->add_option("-f,--format", list.format, "table or json");
  c_list->add_flag("-q,--quiet", list.quiet, "ids only");
  c_list->callback([&] { action = [&] { return cmd_list(g, list); }; });

  ExecArgs exec;
  auto* c_exec = app.add_subcommand("exec", "run a new process in a container");
  c_exec->prefix_command();
  c_exec->add_option("id", exec.id)->required();
  c_exec->add_option("-p,--process", exec.process_file, "process.json (OCI process object)");
  c_exec->add_flag("-t,--tty", exec.tty, "give the process a terminal");
  c_exec->add_flag("-d,--detach", exec.detach, "do not wait for the process");
  c_exec->add_option("--pid-file", exec.pid_file, "write the process's pid here");
  c_exec->add_option("--console-socket", exec.console_socket, "socket for the terminal's master");
  c_exec->add_option("--cwd", exec.cwd, "working directory");
  c_exec->add_option("-e,--env", exec.env, "NAME=VALUE (repeatable)");
  c_exec->add_option("-u,--user", exec.user, "uid[:gid]");
  c_exec->add_option("-g,--additional-gids", exec.additional_gids, "extra group ids");
  c_exec->add_option("-c,--cap", exec.caps, "capability to add (repeatable)");
  c_exec->add_flag("--no-new-privs", exec.no_new_privs, "set no_new_privileges");
  c_exec->callback([&] {
    exec.args = c_exec->remaining();
    action = [&] { return cmd_exec(g, exec); };
  });

  std::string ps_format = "table";
  auto* c_ps = app.add_subcommand("ps", "list a container's processes (guest pids)");
  c_ps->add_option("id", id)->required();
  c_ps->add_option("-f,--format", ps_format, "table or json");
  c_ps->allow_extras();
  c_ps->callback([&] { action = [&] { return cmd_ps(g, id, ps_format); }; });

  EventsArgs events;
  auto* c_events = app.add_subcommand(
      "events", "a container's stats (and OOM events) as JSON lines, every --interval");
  c_events->add_option("id", events.id)->required();
  c_events->add_option("--interval", events.interval, "a Go duration (default 5s)");
  c_events->add_flag("--stats", events.stats, "print one stats event and exit");
  c_events->callback([&] { action = [&] { return cmd_events(g, events); }; });

  auto* c_pause = app.add_subcommand("pause", "freeze every process of a container");
  c_pause->add_option("id", id)->required();
  c_pause->callback([&] { action = [&] { return cmd_pause(g, id); }; });
  auto* c_resume = app.add_subcommand("resume", "thaw a paused container");
  c_resume->add_option("id", id)->required();
  c_resume->callback([&] { action = [&] { return cmd_resume(g, id); }; });

  UpdateArgs update;
  auto* c_update = app.add_subcommand("update", "change a container's resource limits");
  c_update->add_option("id", update.id)->required();
  c_update->add_option("-r,--resources", update.resources,
                       "linux.resources JSON file, - for stdin");
  auto opt = [&](const char* name, std::optional<std::string>& v, const char* help) {
    c_update->add_option_function<std::string>(
        name, [&v](const std::string& s) { v = s; }, help);
  };
  opt("--memory", update.memory, "memory limit (bytes, or 512m, 1g)");
  opt("--memory-swap", update.memory_swap, "memory+swap limit");
  opt("--cpu-quota", update.cpu_quota, "CPU CFS quota (microseconds)");
  opt("--cpu-period", update.cpu_period, "CPU CFS period (microseconds)");
  opt("--cpu-share", update.cpu_shares, "CPU shares (relative weight)");
  opt("--cpuset-cpus", update.cpuset_cpus, "CPUs to use");
  opt("--cpuset-mems", update.cpuset_mems, "memory nodes to use");
  opt("--pids-limit", update.pids_limit, "maximum number of processes");
  c_update->callback([&] { action = [&] { return cmd_update(g, update); }; });

  std::string spec_bundle = ".";
  auto* c_spec = app.add_subcommand("spec", "write a default config.json");
  c_spec->add_option("-b,--bundle", spec_bundle, "bundle directory (default: current)");
  c_spec->callback([&] { action = [&] { return cmd_spec(spec_bundle); }; });

  auto* c_features = app.add_subcommand("features", "print the OCI features document");
  c_features->callback([&] { action = [&] { return cmd_features(g); }; });

  CheckArgs check;
  auto* c_check = app.add_subcommand("check", "say whether this host can run vmrt, and why not");
  c_check->add_option("--containerd-config", check.containerd_config,
                      "containerd's configuration (default /etc/containerd/config.toml)");
  c_check->add_option("-f,--format", check.format, "text or json");
  c_check->callback([&] { action = [&] { return cmd_check(g, check); }; });

  try {
    std::vector<std::string> args = normalize_args(argc, argv);
    // CLI11 would report a misspelt command as a missing one.
    for (auto it = args.rbegin(); it != args.rend(); ++it) {
      if (it->empty() || (*it)[0] == '-') {
        bool takes_value = *it == "--root" || *it == "--log" || *it == "--log-format" ||
                           *it == "--config" || *it == "--rootless";
        if (takes_value && it + 1 != args.rend()) ++it;
        continue;
      }
      auto known = app.get_subcommands([&](CLI::App* c) { return c->get_name() == *it; });
      if (known.empty()) {
        std::fprintf(stderr, "vmrt: unknown command \"%s\"; run vmrt --help for the list\n",
                     it->c_str());
        return 2;
      }
      break;
    }
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    if (create.preserve_fds != 0)
      fail("--preserve-fds: not supported (file descriptors cannot enter a VM)");
    setup_logging(g);
    return action();
  } catch (const std::exception& e) {
    // The caller always sees the error; with --log the log file has it too.
    if (!g.log.empty()) spdlog::error("{}", e.what());
    std::fprintf(stderr, "vmrt: %s\n", e.what());
    return 1;
  }
}

}  // namespace
}  // namespace vmrt::cli

int main(int argc, char** argv) {
  try {
    return vmrt::cli::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vmrt: %s\n", e.what());
    return 1;
  }
}
