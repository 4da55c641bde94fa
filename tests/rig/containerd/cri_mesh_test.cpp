// What a service mesh needs from a pod's kernel, through CRI as kubelet
// drives it, for vmrt (the guest kernel) and runc (the host's) alike:
// - an init container (run to completion before the others, as kubelet runs
//   init containers) programs Istio-style rules into the pod's network
//   namespace with iptables, once through iptables-nft (nf_tables) and once
//   through iptables-legacy (x_tables): outbound TCP of every uid but the
//   proxy's (1337) REDIRECTed to port 15001, plus the TPROXY, mark and
//   policy-routing rules of the mesh's inbound capture, and an IPv6 rule;
// - the app container's connection to an address nobody serves lands on
//   the proxy container's listener on 15001 in the pod;
// - the proxy's own uid goes out unredirected;
// - a privileged container opens an AF_PACKET socket (arping) and creates a
//   TUN/TAP device through /dev/net/tun (tunctl: TUNSETIFF).
// The image holds the host's Debian iptables (both back ends, their shared
// libraries and xtables modules) and busybox.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "common/process.h"
#include "tests/rig/containerd/containerd_harness.h"
#include "tests/rig/containerd/cri_fixture.h"
#include "tests/rig/containerd/pod_guard.h"
#include "tools/cri/cri_client.h"
#include "tools/cri/cri_config.h"

namespace vmrt::containerd_test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace v1 = cri::v1;

constexpr const char* kMeshImage = "docker.io/library/vmrt-mesh:vmrt-test";
// Istio's proxy uid and outbound capture port.
constexpr int kProxyUid = 1337;
constexpr const char* kProxyPort = "15001";
// Nothing serves it: only the redirect can answer.
constexpr const char* kUnserved = "10.254.254.254";
constexpr const char* kMarker = "answered-by-the-pods-proxy";

// Copies host file `from` to the same path under `rootfs` (following
// symlinks: the copy is the file itself).
void copy_to_same_path(const fs::path& rootfs, const fs::path& from) {
  fs::path to = rootfs / from.relative_path();
  fs::create_directories(to.parent_path());
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

// The shared libraries `elf` loads, the dynamic loader included, as ldd
// names them.
std::set<fs::path> shared_libraries(const fs::path& elf) {
  RunResult r = run_capture({"ldd", elf.string()}, 30s);
  if (!r.status.success()) fail("ldd {}: {}\n{}", elf.string(), r.status.to_string(), r.err);
  std::set<fs::path> libs;
  std::istringstream in(r.out);
  for (std::string word; in >> word;)
    if (word.starts_with("/")) libs.insert(word);
  return libs;
}

fs::path host_file(const std::vector<fs::path>& candidates) {
  for (const auto& c : candidates)
    if (fs::exists(c)) return c;
  fail("{} not found: install Debian's iptables package (tools/setup.sh does)",
       candidates.front().string());
}

// busybox with every applet, and the host's iptables: both multi-call
// binaries with their iptables/ip6tables names, the shared libraries they
// and the xtables modules load, and the modules (where libxtables looks
// for them, beside it).
void make_mesh_rootfs(const fs::path& rootfs) {
  fs::create_directories(rootfs / "bin");
  fs::copy_file("/bin/busybox", rootfs / "bin/busybox");
  std::istringstream applets(run_capture({"/bin/busybox", "--list"}, 30s).out);
  for (std::string a; applets >> a;)
    if (a != "busybox") fs::create_symlink("busybox", rootfs / "bin" / a);
  // Debian's merged /usr, so that ldd's /lib paths and the loader's
  // /lib64 land where the binaries look.
  fs::create_directories(rootfs / "usr/lib64");
  fs::create_symlink("usr/lib", rootfs / "lib");
  fs::create_symlink("usr/lib64", rootfs / "lib64");
  for (const char* dir : {"run", "tmp", "usr/sbin"}) fs::create_directories(rootfs / dir);

  std::set<fs::path> libs;
  for (const char* backend : {"nft", "legacy"}) {
    std::string multi = fmt::format("xtables-{}-multi", backend);
    fs::path bin = host_file({fs::path("/usr/sbin") / multi, fs::path("/sbin") / multi});
    copy_to_same_path(rootfs, bin);
    for (const char* tool : {"iptables", "ip6tables", "iptables-save", "ip6tables-save"}) {
      std::string name = std::string(tool).insert(std::string(tool).find("tables") + 6,
                                                  std::string("-") + backend);
      fs::create_symlink(multi, rootfs / "usr/sbin" / name);
    }
    libs.merge(shared_libraries(bin));
  }
  fs::path libxtables;
  for (const auto& l : libs)
    if (l.filename().string().starts_with("libxtables.so")) libxtables = l;
  if (libxtables.empty()) fail("the iptables binaries do not load libxtables");
  fs::path modules = fs::canonical(libxtables).parent_path() / "xtables";
  for (const auto& m : fs::directory_iterator(modules)) {
    copy_to_same_path(rootfs, m.path());
    libs.merge(shared_libraries(m.path()));
  }
  for (const auto& l : libs) copy_to_same_path(rootfs, l);
}

// Istio's istio-init rules (outbound REDIRECT, inbound TPROXY with its mark
// and routing table), narrowed to kUnserved so nothing else in the pod
// changes. `set -x` puts each command in the log before its error.
std::string mesh_rules(const std::string& backend) {
  return fmt::format(R"(set -ex
ipt=iptables-{0}
$ipt -t nat -N MESH_REDIRECT
$ipt -t nat -A MESH_REDIRECT -p tcp -j REDIRECT --to-ports {1}
$ipt -t nat -N MESH_OUTPUT
$ipt -t nat -A OUTPUT -p tcp -j MESH_OUTPUT
$ipt -t nat -A MESH_OUTPUT -m owner --uid-owner {2} -j RETURN
$ipt -t nat -A MESH_OUTPUT -m mark --mark 0x539/0xfff -j RETURN
$ipt -t nat -A MESH_OUTPUT -d 127.0.0.1/32 -j RETURN
$ipt -t nat -A MESH_OUTPUT -d {3}/32 -p tcp -m multiport --dports 80,443 -m conntrack --ctstate NEW -j MESH_REDIRECT
$ipt -t mangle -N MESH_DIVERT
$ipt -t mangle -A MESH_DIVERT -j MARK --set-xmark 0x539/0xffffffff
$ipt -t mangle -A MESH_DIVERT -j ACCEPT
$ipt -t mangle -N MESH_TPROXY
$ipt -t mangle -A MESH_TPROXY ! -d 127.0.0.1/32 -p tcp -j TPROXY --on-port 15006 --on-ip 0.0.0.0 --tproxy-mark 0x539/0xffffffff
$ipt -t mangle -A PREROUTING -p tcp -m socket -j MESH_DIVERT
$ipt -t mangle -A PREROUTING -p tcp -m connmark --mark 0x539/0xffffffff -j CONNMARK --restore-mark
$ipt -t mangle -A PREROUTING -p tcp -m multiport --dports 15999 -j MESH_TPROXY
ip6tables-{0} -t nat -A OUTPUT -p tcp -m owner --uid-owner {2} -j RETURN
ip rule add fwmark 0x539 table 133
ip route add local default dev lo table 133
$ipt -t nat -S MESH_OUTPUT
)",
                     backend, kProxyPort, kProxyUid, kUnserved);
}

// Waits for the proxy's listener, then connects to kUnserved:80 and prints
// what answered. busybox nc's -w bounds the connect only: timeout bounds
// the whole exchange.
std::string app_script() {
  return fmt::format(R"(i=0
until timeout 10 nc -w 5 127.0.0.1 {0} </dev/null | grep -q {1}; do
  i=$((i+1)); [ $i -lt 60 ] || {{ echo "nothing listens on {0}"; exit 2; }}; sleep 1
done
echo hello | timeout 60 nc -w 20 {2} 80
)",
                     kProxyPort, kMarker, kUnserved);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class CriMeshTest : public CriFixture {
 protected:
  static void SetUpTestSuite() {
    Containerd::Options o;
    o.pod_subnet = "10.93.0";
    start_containerd(o);
    fs::path rootfs = containerd_->dir() / "mesh-rootfs";
    make_mesh_rootfs(rootfs);
    containerd_->import_image(
        kCriNamespace, kMeshImage, rootfs,
        {"--config.cmd", "sh", "--config.env",
         "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"});
  }

  // Creates and starts a container of the mesh image; `edit` sets its
  // security context.
  template <typename Edit>
  std::string start(const std::string& pod_id, const v1::PodSandboxConfig& pod,
                    const std::string& name, const std::vector<std::string>& command, Edit edit) {
    v1::ContainerConfig c;
    c.mutable_metadata()->set_name(name);
    c.mutable_image()->set_image(kMeshImage);
    for (const auto& a : command) c.add_command(a);
    c.set_log_path(name + ".log");
    cri::inherit_pod_namespaces(pod, c);
    edit(*c.mutable_linux()->mutable_security_context());
    std::string id = client_->create_container(pod_id, c, pod);
    client_->start_container(id);
    return id;
  }

  // Polls the container until it exits (at most `limit`); its status.
  v1::ContainerStatus wait_exited(const std::string& id, std::chrono::seconds limit = 300s) {
    v1::ContainerStatus st = client_->container_status(id).status();
    for (auto deadline = std::chrono::steady_clock::now() + limit;
         st.state() != v1::CONTAINER_EXITED && std::chrono::steady_clock::now() < deadline;) {
      std::this_thread::sleep_for(500ms);
      st = client_->container_status(id).status();
    }
    return st;
  }

  std::string log_of(const v1::PodSandboxConfig& pod, const std::string& name) {
    return read_file(fs::path(pod.log_directory()) / (name + ".log"));
  }

  void outbound_lands_on_the_proxy(const std::string& backend) {
    v1::PodSandboxConfig pod = pod_config("mesh-" + backend + "-" + GetParam(), v1::POD);
    std::string pod_id = client_->run_pod_sandbox(pod, GetParam());
    cri::PodGuard guard(*client_, pod_id);

    // The init container, with istio-init's capabilities.
    std::string init = start(pod_id, pod, "mesh-init", {"sh", "-c", mesh_rules(backend)},
                             [](v1::LinuxContainerSecurityContext& sc) {
                               sc.mutable_capabilities()->add_add_capabilities("NET_ADMIN");
                               sc.mutable_capabilities()->add_add_capabilities("NET_RAW");
                             });
    v1::ContainerStatus st = wait_exited(init);
    ASSERT_EQ(st.state(), v1::CONTAINER_EXITED) << log_of(pod, "mesh-init");
    ASSERT_EQ(st.exit_code(), 0) << log_of(pod, "mesh-init");
    EXPECT_THAT(log_of(pod, "mesh-init"), ::testing::HasSubstr("--uid-owner 1337 -j RETURN"));

    // The proxy, as the mesh's sidecar runs: uid 1337, listening on 15001.
    std::string proxy =
        start(pod_id, pod, "proxy",
              {"nc", "-ll", "-p", kProxyPort, "-e", "/bin/busybox", "echo", kMarker},
              [](v1::LinuxContainerSecurityContext& sc) {
                sc.mutable_run_as_user()->set_value(kProxyUid);
              });
    std::string app = start(pod_id, pod, "app", {"sh", "-c", app_script()},
                            [](v1::LinuxContainerSecurityContext&) {});
    st = wait_exited(app);
    EXPECT_EQ(st.state(), v1::CONTAINER_EXITED) << log_of(pod, "app");
    EXPECT_EQ(st.exit_code(), 0) << log_of(pod, "app");
    EXPECT_THAT(log_of(pod, "app"), ::testing::HasSubstr(kMarker))
        << "the app's connection to " << kUnserved << ":80 did not reach the proxy";

    // The proxy's own connections leave the pod as they are.
    auto own = client_->exec_sync(
        proxy, {"sh", "-c", fmt::format("id -u; timeout 10 nc -w 3 {} 80 </dev/null", kUnserved)},
        60s);
    EXPECT_THAT(own.stdout(), ::testing::HasSubstr(std::to_string(kProxyUid)));
    EXPECT_THAT(own.stdout(), ::testing::Not(::testing::HasSubstr(kMarker)))
        << "uid " << kProxyUid << "'s connection was redirected too";

    guard.remove();
  }
};

TEST_P(CriMeshTest, IptablesNftRedirectsOutboundToTheProxy) { outbound_lands_on_the_proxy("nft"); }

TEST_P(CriMeshTest, IptablesLegacyRedirectsOutboundToTheProxy) {
  outbound_lands_on_the_proxy("legacy");
}

TEST_P(CriMeshTest, PrivilegedContainerOpensPacketSocketAndTun) {
  v1::PodSandboxConfig pod = pod_config("mesh-priv-" + GetParam(), v1::POD);
  pod.mutable_linux()->mutable_security_context()->set_privileged(true);
  std::string pod_id = client_->run_pod_sandbox(pod, GetParam());
  cri::PodGuard guard(*client_, pod_id);
  std::string c = start(pod_id, pod, "priv", {"sleep", "3600"},
                        [](v1::LinuxContainerSecurityContext& sc) { sc.set_privileged(true); });

  // arping: an AF_PACKET socket, answered by the pod network's gateway.
  auto packet = client_->exec_sync(
      c, {"arping", "-c", "1", "-w", "10", "-I", "eth0", containerd_->pod_gateway()}, 60s);
  EXPECT_EQ(packet.exit_code(), 0) << packet.stdout() << packet.stderr();
  EXPECT_THAT(packet.stdout(), ::testing::HasSubstr("Received 1 response")) << packet.stderr();

  // tunctl: TUNSETIFF on /dev/net/tun (made as a privileged pod has it).
  auto tun = client_->exec_sync(
      c,
      {"sh", "-c",
       "[ -c /dev/net/tun ] || { mkdir -p /dev/net && mknod /dev/net/tun c 10 200; } && "
       "tunctl -t mesh-tap0 && ip -o link show mesh-tap0"},
      60s);
  EXPECT_EQ(tun.exit_code(), 0) << tun.stdout() << tun.stderr();
  EXPECT_THAT(tun.stdout(), ::testing::HasSubstr("mesh-tap0:")) << tun.stderr();

  guard.remove();
}

INSTANTIATE_TEST_SUITE_P(Runtimes, CriMeshTest, ::testing::Values("vmrt", "runc"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vmrt::containerd_test
