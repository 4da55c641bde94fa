#pragma once
// Stops and removes a CRI pod however a test ends, so that a failed check
// does not leave its VM (and its network) to the next test.

#include <gtest/gtest.h>

#include <string>

#include "tools/cri/cri_client.h"

namespace vmrt::cri {

class PodGuard {
 public:
  PodGuard(Client& client, std::string id) : client_(client), id_(std::move(id)) {}
  ~PodGuard() {
    if (id_.empty()) return;
    try {
      client_.stop_pod_sandbox(id_);
      client_.remove_pod_sandbox(id_);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "removing pod " << id_ << ": " << e.what();
    }
  }
  PodGuard(const PodGuard&) = delete;
  PodGuard& operator=(const PodGuard&) = delete;

  // Stops and removes it now; failures are the test's.
  void remove() {
    client_.stop_pod_sandbox(id_);
    client_.remove_pod_sandbox(id_);
    id_.clear();
  }

 private:
  Client& client_;
  std::string id_;
};

}  // namespace vmrt::cri
