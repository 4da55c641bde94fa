#pragma once
// The host's end of vmrt-vmm's control socket (vmm/control/control_protocol.h):
// one JSON request line, one reply line.

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace vmrt::sandbox {

// Sends `request` and returns the reply object when it says "ok"; throws
// vmrt::Error with the VMM's error otherwise, or when no reply came within
// `timeout`.
nlohmann::json vmm_control(const std::filesystem::path& socket, const nlohmann::json& request,
                           std::chrono::milliseconds timeout);

}  // namespace vmrt::sandbox
