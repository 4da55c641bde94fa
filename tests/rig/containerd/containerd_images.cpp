// The test images (busybox and pause, and a test's own), built with umoci
// and imported into containerd.
#include <fmt/format.h>

#include <filesystem>

#include "common/error.h"
#include "common/fd.h"
#include "tests/rig/containerd/containerd_harness.h"
#include "tests/rig/containerd/containerd_harness_detail.h"
#include "tests/rig/support/host_state.h"

namespace vmrt::containerd_test {

using namespace std::chrono_literals;
using namespace detail;
using vmrt::test::read_text;

namespace {

void run_checked(const std::vector<std::string>& argv, std::chrono::seconds timeout = 120s) {
  RunResult r = run_capture(argv, timeout);
  if (!r.status.success() || r.timed_out) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    fail("{}: {}{}\n{}", cmd, r.timed_out ? "timed out, " : "", r.status.to_string(), r.err);
  }
}

// "docker.io/library/busybox:vmrt-test" -> {"docker.io/library/busybox", "vmrt-test"}.
std::pair<std::string, std::string> split_reference(const std::string& ref) {
  size_t colon = ref.rfind(':');
  return {ref.substr(0, colon), ref.substr(colon + 1)};
}

// An OCI image layout with one layer (the tree `rootfs`) and the given
// `umoci config` flags, archived as `ctr images import` reads it. The
// layout's index names the image by its tag only; the import adds the rest
// of the reference (--base-name).
std::filesystem::path build_image(const std::filesystem::path& work, const std::string& reference,
                                  const std::filesystem::path& rootfs,
                                  const std::vector<std::string>& config_flags) {
  auto [name, tag] = split_reference(reference);
  std::string file = std::filesystem::path(name).filename().string();
  std::filesystem::path layout = work / (file + ".layout"), archive = work / (file + ".tar");
  std::string image = layout.string() + ":" + tag;
  run_checked({"umoci", "init", "--layout", layout.string()});
  run_checked({"umoci", "new", "--image", image});
  run_checked({"umoci", "insert", "--image", image, rootfs.string(), "/"});
  std::vector<std::string> config = {"umoci", "config", "--image", image};
  config.insert(config.end(), config_flags.begin(), config_flags.end());
  run_checked(config);
  // `config` leaves the manifest it replaced behind.
  run_checked({"umoci", "gc", "--layout", layout.string()});
  run_checked({"tar", "-C", layout.string(), "-cf", archive.string(), "."});
  return archive;
}

struct ImageArchives {
  std::filesystem::path busybox, pause;
};

// Built once per test process: umoci is quick on a host, less so under the
// rig's emulated CPU, and every Containerd imports the same two images.
const ImageArchives& image_archives() {
  static TempDir work("vmrt-images", "/tmp");
  static const ImageArchives archives = [] {
    ImageArchives a;
    vmrt::test::make_busybox_rootfs(work.path() / "busybox-rootfs");
    a.busybox = build_image(work.path(), kBusyboxImage, work.path() / "busybox-rootfs",
                            {"--config.cmd", "sh", "--config.env",
                             "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"});
    std::filesystem::create_directories(work.path() / "pause-rootfs");
    std::filesystem::copy_file(VMRT_TEST_PAUSE, work.path() / "pause-rootfs/pause");
    a.pause = build_image(work.path(), kPauseImage, work.path() / "pause-rootfs",
                          {"--config.entrypoint", "/pause"});
    return a;
  }();
  return archives;
}

}  // namespace

void Containerd::import_images(const std::string& ns) const {
  const ImageArchives& images = image_archives();
  import_archive(ns, kBusyboxImage, images.busybox);
  import_archive(ns, kPauseImage, images.pause);
}

void Containerd::import_image(const std::string& ns, const std::string& reference,
                              const std::filesystem::path& rootfs,
                              const std::vector<std::string>& config_flags) const {
  // build_image names its layout and archive after the image.
  std::filesystem::path work = dir() / "images";
  std::filesystem::create_directories(work);
  import_archive(ns, reference, build_image(work, reference, rootfs, config_flags));
}

void Containerd::import_archive(const std::string& ns, const std::string& reference,
                                const std::filesystem::path& archive) const {
  SpawnOptions o;
  o.extra_env = extra_env();
  RunResult r = run_capture(ctr_argv_in(ns, {"images", "import", "--base-name",
                                             split_reference(reference).first, archive.string()}),
                            120s, o);
  if (!r.status.success())
    fail("importing {} into namespace {}: {}\n{}\ncontainerd's log ends with:\n{}", reference, ns,
         r.status.to_string(), r.err, log_tail());
}

}  // namespace vmrt::containerd_test
