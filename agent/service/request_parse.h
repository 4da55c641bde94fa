#pragma once
// Checks and translations of request fields, kept apart from the service so
// that every rule is stated once and unit-tested without root. Each throws
// RequestError(INVALID_ARGUMENT) with a message naming the field.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/oci/spec.h"

namespace vmrt::agent {

// Container and exec ids: [A-Za-z0-9][A-Za-z0-9_.-]{0,127}. They name state
// directories and cgroups, so nothing else is allowed. `field` names the id
// in the message ("container_id").
void check_id(std::string_view field, const std::string& id);

// SHARED/REL for a rootfs path relative to the shared fs: not absolute, no
// ".." component, not empty. Symlinks inside the share are the host's
// business (the host wrote the share), so they are not resolved here.
std::filesystem::path resolve_in_share(const std::filesystem::path& shared, const std::string& rel);

// The spec of CreateContainer; errors name "oci_spec_json".
oci::Spec parse_container_spec(std::string_view json_text);

// The "process" object of ExecProcess; errors name "oci_process_json".
oci::Process parse_exec_process(std::string_view json_text);

// The LinuxResources of UpdateContainer; errors name "resources_json".
oci::Resources parse_resources(std::string_view json_text);

// 1..64 (SIGRTMAX on Linux).
int check_signal(uint32_t signal);

// A hostname for sethostname: 1..64 bytes of letters, digits, '-' and '.'.
void check_hostname(const std::string& hostname);

// resolv.conf text from the sandbox's DNS settings; an entry holding
// whitespace where it cannot or a line break is rejected (it would inject
// lines). Empty when no setting is given.
std::string resolv_conf(const std::vector<std::string>& servers,
                        const std::vector<std::string>& searches,
                        const std::vector<std::string>& options);

}  // namespace vmrt::agent
