// The harness's containerd configuration: plugins, the CRI runtimes, CNI.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fstream>
#include <set>
#include <sstream>

#include "common/error.h"
#include "common/fd.h"
#include "tests/rig/containerd/containerd_harness.h"
#include "tests/rig/containerd/containerd_harness_detail.h"
#include "tests/rig/support/host_state.h"

namespace vmrt::containerd_test {

using namespace std::chrono_literals;
using namespace detail;
using vmrt::test::read_text;

std::filesystem::path Containerd::vmrt_config(const std::string& handler) const {
  if (handler == "vmrt") return VMRT_DEV_CONFIG;
  if (!options_.vmrt_variants.count(handler)) fail("no vmrt runtime handler {}", handler);
  return dir() / (handler + ".toml");
}

namespace {

// The key of a TOML line "key = value", empty for other lines.
std::string toml_key(const std::string& line) {
  auto eq = line.find('=');
  if (eq == std::string::npos || line.starts_with('#') || line.starts_with('[')) return {};
  std::string key = line.substr(0, eq);
  key.erase(key.find_last_not_of(' ') + 1);
  return key;
}

// The build tree's configuration (one [hypervisor] table) with `lines`
// after it; a key that `lines` sets before any table of its own replaces
// the build's (TOML refuses a key twice), e.g. another image.
std::string variant_config(const std::string& lines) {
  std::set<std::string> replaced;
  std::istringstream in(lines);
  for (std::string line; std::getline(in, line) && !line.starts_with('[');)
    if (auto key = toml_key(line); !key.empty()) replaced.insert(key);
  std::string out;
  std::istringstream dev(read_text(VMRT_DEV_CONFIG));
  for (std::string line; std::getline(dev, line);)
    if (!replaced.count(toml_key(line))) out += line + "\n";
  return out + lines + "\n";
}

}  // namespace

// The variants' configuration files and their CRI runtime entries.
std::string Containerd::write_vmrt_variants() const {
  std::string runtimes;
  for (const auto& [handler, lines] : options_.vmrt_variants) {
    std::ofstream(vmrt_config(handler)) << variant_config(lines);
    runtimes += fmt::format(
        R"(    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.{handler}]
      runtime_type = "{vmrt}"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.{handler}.options]
        ConfigPath = "{config}"
)",
        fmt::arg("handler", handler), fmt::arg("vmrt", kVmrtRuntime),
        fmt::arg("config", vmrt_config(handler).string()));
  }
  return runtimes;
}

void Containerd::write_config() const {
  std::filesystem::create_directories(dir() / "cni/bin");
  std::filesystem::create_directories(dir() / "cni/net.d");
  std::vector<std::string> disabled = {
      // Snapshotters whose filesystems the tests never have; left enabled
      // they only fill the log with failures to load.
      "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
      "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"};
  if (snapshotter_ != "overlayfs") disabled.push_back("io.containerd.snapshotter.v1.overlayfs");
  std::string disabled_list;
  for (const auto& d : disabled)
    disabled_list += (disabled_list.empty() ? "\"" : ", \"") + d + "\"";

  std::string cni_bin = (dir() / "cni/bin").string();
  if (has_pod_network()) {
    cni_bin = "/usr/lib/cni";  // Debian's containernetworking-plugins
    // One range set per family: host-local gives the pod an address of each
    // (dual stack), or of the one given.
    std::vector<std::string> ranges, routes;
    if (!options_.pod_subnet.empty()) {
      ranges.push_back(
          fmt::format(R"([{{"subnet": "{0}.0/24", "gateway": "{0}.1"}}])", options_.pod_subnet));
      routes.push_back(R"({"dst": "0.0.0.0/0"})");
    }
    if (!options_.pod_subnet6.empty()) {
      ranges.push_back(
          fmt::format(R"([{{"subnet": "{0}/64", "gateway": "{0}1"}}])", options_.pod_subnet6));
      routes.push_back(R"({"dst": "::/0"})");
    }
    // No masquerading (nothing leaves the machine) and no iptables rules
    // to clean up; host-local keeps its leases in the harness's directory.
    std::ofstream(dir() / "cni/net.d/10-vmrt-test.conflist") << fmt::format(
        R"({{"cniVersion": "1.0.0", "name": "vmrt-test", "plugins": [{{
  "type": "bridge", "bridge": "{bridge}", "isGateway": true, "ipMasq": false,
  "ipam": {{"type": "host-local", "dataDir": "{dir}/cni/ipam",
            "ranges": [{ranges}],
            "routes": [{routes}]}}
}}]}}
)",
        fmt::arg("bridge", kPodBridge), fmt::arg("dir", dir().string()),
        fmt::arg("ranges", fmt::join(ranges, ", ")), fmt::arg("routes", fmt::join(routes, ", ")));
  }

  std::ofstream(dir() / "config.toml") << fmt::format(
      R"(# A private containerd for vmrt's end-to-end tests.
version = 2
root = "{dir}/root"
state = "{state}"
disabled_plugins = [{disabled}]

[grpc]
  address = "{address}"
[ttrpc]
  address = "{address}.ttrpc"
[debug]
  # debug also makes containerd start shims with -debug.
  level = "debug"

[plugins."io.containerd.internal.v1.opt"]
  # The default, /opt/containerd, is read-only inside the rig.
  path = "{dir}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  # No registry is reachable: the pause image is imported by the harness.
  sandbox_image = "{pause}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  # The rig runs the host's root as a chroot without securityfs; profiles
  # could not be loaded there.
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "{snapshotter}"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "{runc}"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.vmrt]
      runtime_type = "{vmrt}"
{variants}  # Without a CNI configuration in conf_dir the plugin reports the pod
  # network not ready and runs host-network pods only.
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{cni_bin}"
    conf_dir = "{dir}/cni/net.d"
)",
      fmt::arg("dir", dir().string()), fmt::arg("state", state_dir().string()),
      fmt::arg("disabled", disabled_list), fmt::arg("address", address().string()),
      fmt::arg("pause", kPauseImage), fmt::arg("snapshotter", snapshotter_),
      fmt::arg("runc", kRuncRuntime), fmt::arg("vmrt", kVmrtRuntime), fmt::arg("cni_bin", cni_bin),
      fmt::arg("variants", write_vmrt_variants()));
}

}  // namespace vmrt::containerd_test
