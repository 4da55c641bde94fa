#pragma once
// What the CRI rig tests share: one private containerd per suite (with or
// without a CNI pod network), a CRI client on it, pods and containers made
// as kubelet makes them, and the leftover check after every test. The
// parameter is the runtime handler (vmrt, runc).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/rig/containerd/containerd_harness.h"
#include "tools/cri/cri_client.h"
#include "tools/cri/cri_config.h"

namespace vmrt::containerd_test {

class CriFixture : public ::testing::TestWithParam<std::string> {
 protected:
  static void start_containerd(Containerd::Options options = {}) {
    using namespace std::chrono_literals;
    containerd_ = new Containerd(options);
    containerd_->import_images(kCriNamespace);
    // Each call's deadline: kubelet's default runtime-request-timeout.
    client_ = new cri::Client(containerd_->cri_endpoint(), 120s);
    client_->wait_ready(60s);
  }
  static void TearDownTestSuite() {
    delete client_;
    delete containerd_;
    client_ = nullptr;
    containerd_ = nullptr;
  }
  void TearDown() override {
    EXPECT_THAT(containerd_->leftovers(), ::testing::IsEmpty()) << containerd_->log_tail();
  }

  // A pod in the test namespace; `network` NODE (host network) or POD (its
  // own, from CNI).
  cri::v1::PodSandboxConfig pod_config(const std::string& name, cri::v1::NamespaceMode network) {
    cri::v1::PodSandboxConfig pod;
    pod.mutable_metadata()->set_name(name);
    pod.mutable_metadata()->set_namespace_("vmrt-test");
    pod.mutable_metadata()->set_uid(cri::random_hex_id());
    pod.set_log_directory((containerd_->dir() / "pod-logs" / name).string());
    pod.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(
        network);
    return pod;
  }

  // Creates and starts a busybox container running `command` in the pod.
  std::string start_container(const std::string& pod_id, const cri::v1::PodSandboxConfig& pod,
                              const std::string& name, const std::vector<std::string>& command) {
    cri::v1::ContainerConfig c;
    c.mutable_metadata()->set_name(name);
    c.mutable_image()->set_image(kBusyboxImage);
    for (const auto& a : command) c.add_command(a);
    c.set_log_path(name + ".log");
    cri::inherit_pod_namespaces(pod, c);
    std::string id = client_->create_container(pod_id, c, pod);
    client_->start_container(id);
    return id;
  }

  static inline Containerd* containerd_ = nullptr;
  static inline cri::Client* client_ = nullptr;
};

}  // namespace vmrt::containerd_test
