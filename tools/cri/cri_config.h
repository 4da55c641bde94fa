#pragma once
// Building CRI requests from command-line flags and crictl-style JSON files,
// and turning CRI answers into JSON for scripts: the vmrt-cri tool's logic
// that needs no server.

#include <google/protobuf/message.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "proto/cri/api.pb.h"

namespace vmrt::cri {

namespace v1 = ::runtime::v1;

// "key=value" -> {key, value}; the value may hold '=' and be empty. Throws
// an Error naming `what` ("--label") when there is no '=' or no key.
std::pair<std::string, std::string> split_key_value(const std::string& kv, const std::string& what);

// Reads a message from JSON as crictl's config files write it (field names
// in snake_case, enums as numbers) or as proto3 JSON does (lowerCamelCase,
// enum names). A field outside this client's subset of the API is an error
// naming it, not silently dropped. `where` names the source in errors.
void parse_json(const std::string& text, google::protobuf::Message& out, const std::string& where);
// Proto3 JSON with the proto's own (snake_case) field names, fields at
// their default values included.
nlohmann::json to_json(const google::protobuf::Message& message);

// A pod's settings given on the command line; each one set overrides what
// a JSON config file said.
struct PodFlags {
  std::optional<std::string> name;
  std::optional<std::string> namespace_;
  std::optional<std::string> uid;
  std::optional<uint32_t> attempt;
  std::optional<std::string> hostname;
  std::optional<std::string> log_directory;
  std::optional<std::string> cgroup_parent;
  bool host_network = false;
  std::vector<std::string> labels;       // key=value
  std::vector<std::string> annotations;  // key=value
};

// Applies flags over config, then fills what containerd needs and neither
// gave: metadata (its name, namespace and uid make the sandbox's unique
// name, so the uid defaults to a fresh random one and the name to one
// derived from it) and kubelet's default namespace modes (pid: CONTAINER).
void apply_pod_flags(const PodFlags& flags, v1::PodSandboxConfig& config);

// A random 32-hex-digit id, for pod uids and bench pod names.
std::string random_hex_id();

struct ContainerFlags {
  std::optional<std::string> name;
  std::optional<std::string> image;
  std::optional<std::string> working_dir;
  std::optional<std::string> log_path;
  std::vector<std::string> envs;         // NAME=VALUE
  std::vector<std::string> labels;       // key=value
  std::vector<std::string> annotations;  // key=value
  // Replaces the image's entrypoint and command, or with keep_entrypoint
  // only its command (the CRI `args`), as a pod spec's command/args do.
  std::vector<std::string> argv;
  bool keep_entrypoint = false;
  bool tty = false;
  bool stdin = false;
};

// Applies flags over config; a container needs a name and an image, from
// one or the other, or this throws.
void apply_container_flags(const ContainerFlags& flags, v1::ContainerConfig& config);

// kubelet gives every container the namespace modes of its pod, and
// containerd reads them from the container's own security context; a
// container config that sets none gets the pod's.
void inherit_pod_namespaces(const v1::PodSandboxConfig& pod, v1::ContainerConfig& container);

// The pod's config for CreateContainer's sandbox_config. containerd keeps
// the config it was given and returns it in verbose status (info["info"],
// key "config"); for a runtime that does not, the status itself gives the
// metadata, labels, annotations and namespace modes.
v1::PodSandboxConfig sandbox_config_from_status(const v1::PodSandboxStatusResponse& status);

// ContainerStats as flat JSON with plain numbers: {"id", "name",
// "cpu_usage_core_nano_seconds", "memory_working_set_bytes", ...}; a value
// the runtime did not report is absent.
nlohmann::json stats_json(const v1::ContainerStats& stats);

struct Summary {
  double median = 0;
  double min = 0;
  double max = 0;
  double mean = 0;
};
// Of an empty set: all zero. The median of an even count is the mean of the
// two middle values.
Summary summarize(std::vector<double> values);

}  // namespace vmrt::cri
