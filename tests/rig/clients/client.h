#pragma once
// Docker and podman as their users run them, inside the rig, with runc and
// vmrt side by side: dockerd with a `vmrt` runtime registered the way its
// documentation says (daemon.json "runtimes", runtimeArgs naming the build
// tree's configuration); podman choosing the runtime per command with
// --runtime. Their state lives in private directories, a busybox image is
// imported as kImage, and the destructor removes every container and stops
// the daemon.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/process.h"
#include "common/tempdir.h"

namespace vmrt::clients_test {

// busybox with every applet linked in /bin, and /www/index.html.
inline constexpr const char* kImage = "localhost/busybox:vmrt-test";
inline constexpr const char* kIndexHtml = "hello from the container\n";

class Client {
 public:
  // "docker" or "podman": the client this test binary was built for.
  static std::unique_ptr<Client> make(const std::string& name);
  virtual ~Client();

  const std::string& name() const { return name_; }
  // `client ARGS` with the container runtime `runtime` ("runc" or "vmrt")
  // chosen where the client takes it. `input`, when given, is stdin.
  RunResult run(const std::string& runtime, const std::vector<std::string>& args,
                std::chrono::seconds timeout = std::chrono::seconds(300)) const;
  // A scratch directory for volumes and profiles, removed with the client.
  const std::filesystem::path& dir() const { return dir_.path(); }
  // The program `--init` runs as the container's pid 1 (docker-init, catatonit).
  virtual std::string init_program() const = 0;
  // Where vmrt keeps the state of this client's containers.
  virtual std::filesystem::path vmrt_state_root() const = 0;

 protected:
  explicit Client(std::string name);
  virtual std::vector<std::string> command(const std::string& runtime,
                                           const std::vector<std::string>& args) const = 0;
  // Imports kImage from a busybox root filesystem.
  void import_image();

  std::string name_;
  TempDir dir_;
};

// The build tree's vmrt, with its configuration: the program both clients
// run for "vmrt".
std::filesystem::path vmrt_program();

}  // namespace vmrt::clients_test
