#pragma once
// `vmrt events` prints what `runc events` prints: JSON lines of
// {"type","id","data"}, the data of a "stats" event in runc's own stats
// layout (its types.Stats), filled from the guest's cgroup v2 figures as
// runc fills it from a cgroup v2 host. Clients such as containerd's go-runc
// decode that layout.

#include <nlohmann/json.hpp>
#include <string>

#include "proto/agent.pb.h"

namespace vmrt::cli {

nlohmann::json runc_stats(const agent::v1::StatsContainerResponse& s);

// One event line's JSON: {"type":TYPE,"id":ID} plus "data" when not null.
nlohmann::json runc_event(const std::string& type, const std::string& id,
                          nlohmann::json data = nullptr);

}  // namespace vmrt::cli
