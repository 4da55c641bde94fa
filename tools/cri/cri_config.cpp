#include "tools/cri/cri_config.h"

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "common/error.h"

namespace vmrt::cri {

std::pair<std::string, std::string> split_key_value(const std::string& kv,
                                                    const std::string& what) {
  auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) fail("{}: expected KEY=VALUE, got \"{}\"", what, kv);
  return {kv.substr(0, eq), kv.substr(eq + 1)};
}

void parse_json(const std::string& text, google::protobuf::Message& out, const std::string& where) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(text, &out, options);
  if (!status.ok()) fail("{}: {}", where, status.ToString());
}

nlohmann::json to_json(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  // A ready pod's state is the enum's zero value, which proto3 JSON would
  // leave out; scripts should not have to know that.
  options.always_print_primitive_fields = true;
  std::string text;
  auto status = google::protobuf::util::MessageToJsonString(message, &text, options);
  if (!status.ok()) fail("{} to JSON: {}", message.GetTypeName(), status.ToString());
  return nlohmann::json::parse(text);
}

std::string random_hex_id() {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < 4; ++i) out += fmt::format("{:08x}", rd());
  return out;
}

namespace {

void put_pairs(const std::vector<std::string>& kvs, const std::string& what,
               google::protobuf::Map<std::string, std::string>& out) {
  for (const auto& kv : kvs) {
    auto [k, v] = split_key_value(kv, what);
    out[k] = v;
  }
}

}  // namespace

void apply_pod_flags(const PodFlags& f, v1::PodSandboxConfig& config) {
  auto* md = config.mutable_metadata();
  if (f.name) md->set_name(*f.name);
  if (f.namespace_) md->set_namespace_(*f.namespace_);
  if (f.uid) md->set_uid(*f.uid);
  if (f.attempt) md->set_attempt(*f.attempt);
  if (f.hostname) config.set_hostname(*f.hostname);
  if (f.log_directory) config.set_log_directory(*f.log_directory);
  if (f.cgroup_parent) config.mutable_linux()->set_cgroup_parent(*f.cgroup_parent);
  put_pairs(f.labels, "--label", *config.mutable_labels());
  put_pairs(f.annotations, "--annotation", *config.mutable_annotations());

  if (md->uid().empty()) md->set_uid(random_hex_id());
  if (md->name().empty()) md->set_name("vmrt-cri-" + md->uid().substr(0, 8));
  if (md->namespace_().empty()) md->set_namespace_("default");

  auto* sc = config.mutable_linux()->mutable_security_context();
  bool had_namespaces = sc->has_namespace_options();
  auto* ns = sc->mutable_namespace_options();
  // kubelet's pod without shareProcessNamespace: each container its own pid
  // namespace. A JSON file that spelled out namespace modes keeps its own.
  if (!had_namespaces) ns->set_pid(v1::CONTAINER);
  if (f.host_network) ns->set_network(v1::NODE);
}

void apply_container_flags(const ContainerFlags& f, v1::ContainerConfig& config) {
  if (f.name) config.mutable_metadata()->set_name(*f.name);
  if (f.image) config.mutable_image()->set_image(*f.image);
  if (f.working_dir) config.set_working_dir(*f.working_dir);
  if (f.log_path) config.set_log_path(*f.log_path);
  for (const auto& e : f.envs) {
    auto [k, v] = split_key_value(e, "--env");
    auto* kv = config.add_envs();
    kv->set_key(k);
    kv->set_value(v);
  }
  put_pairs(f.labels, "--label", *config.mutable_labels());
  put_pairs(f.annotations, "--annotation", *config.mutable_annotations());
  if (!f.argv.empty()) {
    config.clear_args();
    if (!f.keep_entrypoint) config.clear_command();
    for (const auto& a : f.argv) {
      if (f.keep_entrypoint)
        config.add_args(a);
      else
        config.add_command(a);
    }
  }
  if (f.tty) config.set_tty(true);
  if (f.stdin) config.set_stdin(true);
  if (config.metadata().name().empty()) fail("a container needs a name (--name)");
  if (config.image().image().empty()) fail("a container needs an image (--image)");
}

void inherit_pod_namespaces(const v1::PodSandboxConfig& pod, v1::ContainerConfig& container) {
  auto* sc = container.mutable_linux()->mutable_security_context();
  if (sc->has_namespace_options()) return;
  const auto& pod_sc = pod.linux().security_context();
  if (pod_sc.has_namespace_options()) *sc->mutable_namespace_options() = pod_sc.namespace_options();
}

v1::PodSandboxConfig sandbox_config_from_status(const v1::PodSandboxStatusResponse& status) {
  v1::PodSandboxConfig config;
  auto info = status.info().find("info");
  if (info != status.info().end()) {
    auto j = nlohmann::json::parse(info->second, nullptr, false);
    if (j.is_object() && j.contains("config") && j["config"].is_object()) {
      google::protobuf::util::JsonParseOptions options;
      // containerd records the whole config, including fields this client's
      // subset of the API leaves out; those are not needed to create a
      // container and are dropped.
      options.ignore_unknown_fields = true;
      if (google::protobuf::util::JsonStringToMessage(j["config"].dump(), &config, options).ok())
        return config;
      config.Clear();
    }
  }
  const auto& s = status.status();
  *config.mutable_metadata() = s.metadata();
  config.mutable_labels()->insert(s.labels().begin(), s.labels().end());
  config.mutable_annotations()->insert(s.annotations().begin(), s.annotations().end());
  if (s.linux().namespaces().has_options())
    *config.mutable_linux()->mutable_security_context()->mutable_namespace_options() =
        s.linux().namespaces().options();
  return config;
}

nlohmann::json stats_json(const v1::ContainerStats& s) {
  nlohmann::json j = nlohmann::json::object();
  j["id"] = s.attributes().id();
  j["name"] = s.attributes().metadata().name();
  auto put = [&j](const char* key, bool has, const v1::UInt64Value& v) {
    if (has) j[key] = v.value();
  };
  if (s.has_cpu()) {
    const auto& c = s.cpu();
    j["cpu_timestamp"] = c.timestamp();
    put("cpu_usage_core_nano_seconds", c.has_usage_core_nano_seconds(),
        c.usage_core_nano_seconds());
    put("cpu_usage_nano_cores", c.has_usage_nano_cores(), c.usage_nano_cores());
  }
  if (s.has_memory()) {
    const auto& m = s.memory();
    j["memory_timestamp"] = m.timestamp();
    put("memory_working_set_bytes", m.has_working_set_bytes(), m.working_set_bytes());
    put("memory_available_bytes", m.has_available_bytes(), m.available_bytes());
    put("memory_usage_bytes", m.has_usage_bytes(), m.usage_bytes());
    put("memory_rss_bytes", m.has_rss_bytes(), m.rss_bytes());
    put("memory_page_faults", m.has_page_faults(), m.page_faults());
    put("memory_major_page_faults", m.has_major_page_faults(), m.major_page_faults());
  }
  if (s.has_writable_layer()) {
    const auto& w = s.writable_layer();
    j["writable_layer_mountpoint"] = w.fs_id().mountpoint();
    put("writable_layer_used_bytes", w.has_used_bytes(), w.used_bytes());
    put("writable_layer_inodes_used", w.has_inodes_used(), w.inodes_used());
  }
  return j;
}

Summary summarize(std::vector<double> values) {
  Summary s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  s.median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  s.min = values.front();
  s.max = values.back();
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(n);
  return s;
}

}  // namespace vmrt::cri
