#pragma once
// The records of PodTasks' table: one per task and one per process of it.
// Internal to PodTasks (pod_tasks*.cpp); guarded by its lock.

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "github.com/containerd/containerd/api/types/task/task.pb.h"
#include "shim/pod_vm.h"
#include "shim/rootfs_mounts.h"
#include "shim/stdio_fifos.h"

namespace vmrt::shim {

// One process: a task's init (exec_id empty) or an exec'ed one.
struct ProcessRecord {
  std::string id, exec_id;
  StdioPaths stdio;
  std::string process_json;  // an exec's OCI process
  containerd::v1::types::Status status = containerd::v1::types::Status::CREATED;
  bool starting = false;  // a Start's agent call runs
  uint32_t exit_status = 0;
  google::protobuf::Timestamp exited_at;
  HostStdio fds;              // before the follower: it goes first
  std::shared_ptr<PodVm> vm;  // what the follower uses: it goes first
  std::unique_ptr<ProcessFollower> follower;

  std::string name() const {
    return exec_id.empty() ? "task " + id : "exec " + exec_id + " of task " + id;
  }
};

struct TaskRecord {
  std::string id;
  std::filesystem::path bundle;
  RootfsMounts rootfs;
  std::shared_ptr<ProcessRecord> init;
  std::map<std::string, std::shared_ptr<ProcessRecord>> execs;
  bool paused = false;
};

}  // namespace vmrt::shim
