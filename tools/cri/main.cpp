// vmrt-cri: a small CRI v1 client for tests and benchmarks. It drives a CRI
// runtime (containerd's CRI plugin) the way kubelet does, with crictl-like
// commands whose output scripts can read: ids on stdout, JSON on request.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>

#include "common/error.h"
#include "tools/cri/cri_client.h"
#include "tools/cri/cri_config.h"
#include "tools/cri/pod_start_bench.h"

namespace vmrt::cri {
namespace {

std::string read_text(const std::string& path) {
  if (path == "-")
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void print_json(const nlohmann::json& j) { std::cout << j.dump(2) << "\n"; }

// A status response with its info values (JSON text from containerd)
// decoded, as crictl inspect shows them.
nlohmann::json with_info(const google::protobuf::Message& status,
                         const google::protobuf::Map<std::string, std::string>& info) {
  nlohmann::json j = {{"status", to_json(status)}};
  if (!info.empty()) {
    nlohmann::json i = nlohmann::json::object();
    for (const auto& [k, v] : info) {
      auto parsed = nlohmann::json::parse(v, nullptr, false);
      i[k] = parsed.is_discarded() ? nlohmann::json(v) : parsed;
    }
    j["info"] = i;
  }
  return j;
}

std::string short_id(const std::string& id) { return id.substr(0, 13); }

const char* pod_state_name(v1::PodSandboxState s) {
  return s == v1::SANDBOX_READY ? "Ready" : "NotReady";
}

const char* container_state_name(v1::ContainerState s) {
  switch (s) {
    case v1::CONTAINER_CREATED:
      return "Created";
    case v1::CONTAINER_RUNNING:
      return "Running";
    case v1::CONTAINER_EXITED:
      return "Exited";
    default:
      return "Unknown";
  }
}

void check_format(const std::string& format) {
  if (format != "table" && format != "json") fail("--output: table or json, not \"{}\"", format);
}

// One value per occurrence: "--env A=1 sh" must leave "sh" to the
// positionals.
void add_repeatable(CLI::App* c, const char* name, std::vector<std::string>& v, const char* help) {
  c->add_option(name, v, help)->allow_extra_args(false);
}

// A flag whose absence must be told from an empty value: only flags given
// override a JSON file.
void add_optional(CLI::App* c, const char* name, std::optional<std::string>& v, const char* help) {
  c->add_option_function<std::string>(
      name, [&v](const std::string& s) { v = s; }, help);
}

void add_pod_flags(CLI::App* c, PodFlags& f) {
  add_optional(c, "--name", f.name, "pod name (default: vmrt-cri-<uid prefix>)");
  add_optional(c, "--namespace", f.namespace_, "pod namespace (default: default)");
  add_optional(c, "--uid", f.uid, "pod uid (default: random)");
  add_optional(c, "--hostname", f.hostname, "pod hostname");
  add_optional(c, "--log-directory", f.log_directory, "directory for the containers' logs");
  add_optional(c, "--cgroup-parent", f.cgroup_parent, "cgroup parent of the pod");
  c->add_option_function<uint32_t>(
      "--attempt", [&f](const uint32_t& a) { f.attempt = a; }, "pod attempt number");
  c->add_flag("--host-network", f.host_network,
              "run in the host's network namespace (needs no CNI)");
  add_repeatable(c, "--label", f.labels, "key=value (repeatable)");
  add_repeatable(c, "--annotation", f.annotations, "key=value (repeatable)");
}

void add_container_flags(CLI::App* c, ContainerFlags& f) {
  add_optional(c, "--name", f.name, "container name");
  add_optional(c, "--image", f.image,
               "image reference (must already be in the runtime's image store)");
  add_optional(c, "--workdir", f.working_dir, "working directory");
  add_optional(c, "--log-path", f.log_path, "log file, relative to the pod's log directory");
  add_repeatable(c, "-e,--env", f.envs, "NAME=VALUE (repeatable)");
  add_repeatable(c, "--label", f.labels, "key=value (repeatable)");
  add_repeatable(c, "--annotation", f.annotations, "key=value (repeatable)");
  c->add_flag("--keep-entrypoint", f.keep_entrypoint,
              "ARGS replace only the image's command, not its entrypoint");
  c->add_flag("--tty", f.tty, "give the container a terminal");
  c->add_flag("--stdin", f.stdin, "keep the container's stdin open");
  c->add_option("argv", f.argv, "command and arguments (after --)");
}

int run(int argc, char** argv) {
  CLI::App app{"vmrt-cri: drive a CRI runtime service (containerd's CRI plugin) for tests",
               "vmrt-cri"};
  app.require_subcommand(1);
  std::string endpoint = "/run/containerd/containerd.sock";
  double timeout_s = 60;
  app.add_option("-r,--runtime-endpoint", endpoint, "CRI socket (path or unix:///path)")
      ->envname("CONTAINER_RUNTIME_ENDPOINT")
      ->capture_default_str();
  app.add_option("-t,--timeout", timeout_s, "deadline of each call, in seconds")
      ->capture_default_str();

  std::function<int(Client&)> action;
  std::string id;
  std::vector<std::string> ids;
  std::string format = "table";
  auto add_format = [&format](CLI::App* c) {
    c->add_option("-o,--output", format, "table or json")->capture_default_str();
  };

  app.add_subcommand("version", "print the runtime's name and versions")->callback([&] {
    action = [](Client& c) {
      print_json(to_json(c.version()));
      return 0;
    };
  });

  double wait_s = 0;
  auto* c_status = app.add_subcommand("status", "print the runtime's conditions");
  c_status->add_option("--wait", wait_s, "first wait up to this many seconds for RuntimeReady");
  c_status->callback([&] {
    action = [&](Client& c) {
      if (wait_s > 0) c.wait_ready(Duration(static_cast<int64_t>(wait_s * 1000)));
      auto s = c.status(true);
      print_json(with_info(s.status(), s.info()));
      return 0;
    };
  });

  PodFlags pod_flags;
  std::string pod_file;
  std::string handler;
  auto* c_runp = app.add_subcommand("runp", "run a pod sandbox; prints its id");
  c_runp->add_option("config", pod_file, "pod config JSON, as crictl's (- for stdin)");
  c_runp->add_option("--runtime-handler", handler, "runtime handler (RuntimeClass), e.g. vmrt");
  add_pod_flags(c_runp, pod_flags);
  c_runp->callback([&] {
    action = [&](Client& c) {
      v1::PodSandboxConfig config;
      if (!pod_file.empty()) parse_json(read_text(pod_file), config, pod_file);
      apply_pod_flags(pod_flags, config);
      std::cout << c.run_pod_sandbox(config, handler) << "\n";
      return 0;
    };
  });

  ContainerFlags container_flags;
  std::string container_file;
  auto* c_create =
      app.add_subcommand("create", "create a container in a pod; prints its id. ARGS after --");
  c_create->add_option("pod", id, "pod sandbox id")->required();
  c_create->add_option("--config", container_file, "container config JSON, as crictl's");
  c_create->add_option("--pod-config", pod_file,
                       "the pod's config JSON (default: what the runtime reports)");
  add_container_flags(c_create, container_flags);
  c_create->callback([&] {
    action = [&](Client& c) {
      v1::ContainerConfig config;
      if (!container_file.empty()) parse_json(read_text(container_file), config, container_file);
      apply_container_flags(container_flags, config);
      v1::PodSandboxConfig pod;
      if (!pod_file.empty())
        parse_json(read_text(pod_file), pod, pod_file);
      else
        pod = sandbox_config_from_status(c.pod_sandbox_status(id, true));
      inherit_pod_namespaces(pod, config);
      std::cout << c.create_container(id, config, pod) << "\n";
      return 0;
    };
  });

  auto* c_start = app.add_subcommand("start", "start created containers");
  c_start->add_option("id", ids, "container ids")->required();
  c_start->callback([&] {
    action = [&](Client& c) {
      for (const auto& i : ids) c.start_container(i);
      return 0;
    };
  });

  int64_t grace_s = 10;
  auto* c_stop = app.add_subcommand("stop", "stop running containers");
  c_stop->add_option("id", ids, "container ids")->required();
  c_stop->add_option("--grace", grace_s, "seconds between SIGTERM and SIGKILL")
      ->capture_default_str();
  c_stop->callback([&] {
    action = [&](Client& c) {
      for (const auto& i : ids) c.stop_container(i, std::chrono::seconds(grace_s));
      return 0;
    };
  });

  auto* c_rm = app.add_subcommand("rm", "remove containers");
  c_rm->add_option("id", ids, "container ids")->required();
  c_rm->callback([&] {
    action = [&](Client& c) {
      for (const auto& i : ids) c.remove_container(i);
      return 0;
    };
  });

  std::vector<std::string> cmd;
  int64_t exec_timeout_s = 0;
  auto* c_exec = app.add_subcommand(
      "exec-sync", "run a command in a container and wait; exits with its status. ARGS after --");
  c_exec->add_option("id", id, "container id")->required();
  c_exec->add_option("cmd", cmd, "command and arguments")->required();
  c_exec->add_option("--exec-timeout", exec_timeout_s, "seconds the command may run (0: no limit)");
  c_exec->callback([&] {
    action = [&](Client& c) {
      auto r = c.exec_sync(id, cmd, std::chrono::seconds(exec_timeout_s));
      std::cout << r.stdout() << std::flush;
      std::cerr << r.stderr() << std::flush;
      return r.exit_code();
    };
  });

  auto* c_stats = app.add_subcommand("stats", "print a container's stats as JSON");
  c_stats->add_option("id", id, "container id")->required();
  c_stats->callback([&] {
    action = [&](Client& c) {
      print_json(stats_json(c.container_stats(id)));
      return 0;
    };
  });

  auto* c_inspect = app.add_subcommand("inspect", "print a container's status as JSON");
  c_inspect->add_option("id", id, "container id")->required();
  c_inspect->callback([&] {
    action = [&](Client& c) {
      auto s = c.container_status(id, true);
      print_json(with_info(s.status(), s.info()));
      return 0;
    };
  });

  auto* c_inspectp = app.add_subcommand("inspectp", "print a pod sandbox's status as JSON");
  c_inspectp->add_option("id", id, "pod sandbox id")->required();
  c_inspectp->callback([&] {
    action = [&](Client& c) {
      auto s = c.pod_sandbox_status(id, true);
      print_json(with_info(s.status(), s.info()));
      return 0;
    };
  });

  auto* c_stopp = app.add_subcommand("stopp", "stop pod sandboxes and their containers");
  c_stopp->add_option("id", ids, "pod sandbox ids")->required();
  c_stopp->callback([&] {
    action = [&](Client& c) {
      for (const auto& i : ids) c.stop_pod_sandbox(i);
      return 0;
    };
  });

  auto* c_rmp = app.add_subcommand("rmp", "remove pod sandboxes and their containers");
  c_rmp->add_option("id", ids, "pod sandbox ids")->required();
  c_rmp->callback([&] {
    action = [&](Client& c) {
      for (const auto& i : ids) c.remove_pod_sandbox(i);
      return 0;
    };
  });

  bool quiet = false;
  std::vector<std::string> label_filter;
  auto* c_pods = app.add_subcommand("pods", "list pod sandboxes");
  c_pods->add_flag("-q,--quiet", quiet, "ids only");
  add_repeatable(c_pods, "--label", label_filter,
                 "only pods with this key=value label (repeatable)");
  add_format(c_pods);
  c_pods->callback([&] {
    action = [&](Client& c) {
      check_format(format);
      v1::PodSandboxFilter filter;
      for (const auto& kv : label_filter) {
        auto [k, v] = split_key_value(kv, "--label");
        (*filter.mutable_label_selector())[k] = v;
      }
      auto pods = c.list_pod_sandbox(filter);
      if (quiet) {
        for (const auto& p : pods) std::cout << p.id() << "\n";
      } else if (format == "json") {
        nlohmann::json j = nlohmann::json::array();
        for (const auto& p : pods) j.push_back(to_json(p));
        print_json(j);
      } else {
        std::cout << fmt::format("{:<13}  {:<9}  {:<12}  {:<20}  {}\n", "POD ID", "STATE",
                                 "HANDLER", "NAMESPACE", "NAME");
        for (const auto& p : pods)
          std::cout << fmt::format("{:<13}  {:<9}  {:<12}  {:<20}  {}\n", short_id(p.id()),
                                   pod_state_name(p.state()), p.runtime_handler(),
                                   p.metadata().namespace_(), p.metadata().name());
      }
      return 0;
    };
  });

  bool all = false;
  std::string pod_filter;
  auto* c_ps = app.add_subcommand("ps", "list containers (running ones unless --all)");
  c_ps->add_flag("-q,--quiet", quiet, "ids only");
  c_ps->add_flag("-a,--all", all, "also created and exited containers");
  c_ps->add_option("-p,--pod", pod_filter, "only containers of this pod sandbox");
  add_format(c_ps);
  c_ps->callback([&] {
    action = [&](Client& c) {
      check_format(format);
      v1::ContainerFilter filter;
      filter.set_pod_sandbox_id(pod_filter);
      if (!all) filter.mutable_state()->set_state(v1::CONTAINER_RUNNING);
      auto containers = c.list_containers(filter);
      if (quiet) {
        for (const auto& ct : containers) std::cout << ct.id() << "\n";
      } else if (format == "json") {
        nlohmann::json j = nlohmann::json::array();
        for (const auto& ct : containers) j.push_back(to_json(ct));
        print_json(j);
      } else {
        std::cout << fmt::format("{:<13}  {:<13}  {:<8}  {:<20}  {}\n", "CONTAINER", "POD ID",
                                 "STATE", "NAME", "IMAGE");
        for (const auto& ct : containers)
          std::cout << fmt::format("{:<13}  {:<13}  {:<8}  {:<20}  {}\n", short_id(ct.id()),
                                   short_id(ct.pod_sandbox_id()), container_state_name(ct.state()),
                                   ct.metadata().name(), ct.image().image());
      }
      return 0;
    };
  });

  PodStartBenchOptions bench;
  bool no_host_network = false;
  auto* c_bench = app.add_subcommand(
      "bench-pod-start",
      "time RunPodSandbox -> StartContainer for one-container pods, one after another");
  c_bench->add_option("--runtime-handler", bench.runtime_handler, "runtime handler (e.g. vmrt)");
  c_bench->add_option("--image", bench.image, "container image (already imported)")->required();
  c_bench->add_option("-n,--count", bench.count, "measured pods")->capture_default_str();
  c_bench->add_option("--warmup", bench.warmup, "unmeasured pods first")->capture_default_str();
  c_bench->add_option("--namespace", bench.pod_namespace, "pods' namespace")->capture_default_str();
  c_bench->add_flag("--keep", bench.keep, "leave the measured pods running; their ids are listed");
  c_bench->add_flag("--no-host-network", no_host_network,
                    "give pods their own network namespace (needs CNI)");
  c_bench->add_option("argv", bench.argv, "container command (after --; default: the image's)");
  add_format(c_bench);
  c_bench->callback([&] {
    action = [&](Client& c) {
      check_format(format);
      bench.host_network = !no_host_network;
      // Progress goes to stderr so that stdout stays one JSON document.
      auto result = bench_pod_start(c, bench, [](const PodStartTiming& t) {
        std::fprintf(stderr, "pod %s: %.1f ms\n", short_id(t.pod_id).c_str(), t.total_ms);
      });
      if (format == "json")
        print_json(bench_json(bench, result));
      else
        std::cout << bench_table(bench, result);
      return 0;
    };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    Client client(endpoint, Duration(static_cast<int64_t>(timeout_s * 1000)));
    return action(client);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vmrt-cri: %s\n", e.what());
    return 1;
  }
}

}  // namespace
}  // namespace vmrt::cri

int main(int argc, char** argv) { return vmrt::cri::run(argc, argv); }
