#pragma once
// `vmrt spec`: the config.json runc writes for a new bundle (a shell in a
// busybox-like rootfs, default namespaces, capabilities, masked and
// read-only paths), so that bundles made for runc and for vmrt are the same.

#include <nlohmann/json.hpp>

namespace vmrt::cli {

nlohmann::json default_spec();

}  // namespace vmrt::cli
