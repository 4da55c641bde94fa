#pragma once
// The OCI runtime spec's config.json (runtime-spec 1.0/1.1), as the CLI, the
// shim and the agent read it. Parsing is strict about types and required
// fields and every error names the JSON path, e.g.
//   config.json: process.args: expected an array of strings, got number
// Fields this model does not know are ignored, as runc does.

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace vmrt::oci {

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additional_gids;
};

struct Capabilities {
  std::vector<std::string> bounding, effective, inheritable, permitted, ambient;
};

struct Rlimit {
  std::string type;  // RLIMIT_*
  uint64_t hard = 0;
  uint64_t soft = 0;
};

struct Process {
  bool terminal = false;
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd;
  Capabilities capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj;
  std::string apparmor_profile;
  std::string selinux_label;
};

struct Root {
  std::string path;
  bool readonly = false;
};

struct Mount {
  std::string destination;
  std::string type;
  std::string source;
  std::vector<std::string> options;
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int> timeout;
};

struct Hooks {
  std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart,
      poststop;
};

struct Namespace {
  std::string type;  // pid, network, mount, ipc, uts, user, cgroup, time
  std::string path;
};

struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uid_mappings, gid_mappings;
  std::string cgroups_path;
  // Kept as JSON: the agent maps each controller onto cgroup v2 files.
  nlohmann::json resources;
  nlohmann::json seccomp;
  nlohmann::json devices;
  std::map<std::string, std::string> sysctl;
  std::vector<std::string> masked_paths, readonly_paths;
  std::string rootfs_propagation;
  std::string mount_label;
};

struct Spec {
  std::string oci_version;
  Process process;
  bool has_process = false;
  Root root;
  std::string hostname;
  std::string domainname;
  std::vector<Mount> mounts;
  Hooks hooks;
  std::map<std::string, std::string> annotations;
  Linux linux;
};

// What the spec is for: creating a container needs `process`; other uses
// (reading annotations, the state of a created container) do not.
enum class Purpose { Create, Inspect };

// Parses and validates; throws vmrt::Error naming `source` and the field.
Spec parse_spec(const nlohmann::json& j, Purpose purpose = Purpose::Create,
                const std::string& source = "config.json");
// Reads BUNDLE/config.json (errors name the file, with line and column for
// malformed JSON).
Spec load_spec(const std::filesystem::path& bundle, Purpose purpose = Purpose::Create);

nlohmann::json to_json(const Spec& spec);

}  // namespace vmrt::oci
