#pragma once
// Runs a function inside another network namespace. A network namespace
// is a property of a thread, so the work happens on a short-lived thread
// that joins the namespace and never leaves it: the caller's own
// namespace never changes, whatever the function does or throws.

#include <filesystem>
#include <functional>

namespace vmrt::sandbox::network {

// Calls `fn` on a thread in the network namespace at `netns` (a bind-mounted
// namespace file such as /var/run/netns/cni-..., or /proc/PID/ns/net) and
// returns once it has; an exception from `fn` is rethrown here.
void in_network_namespace(const std::filesystem::path& netns, const std::function<void()>& fn);

}  // namespace vmrt::sandbox::network
