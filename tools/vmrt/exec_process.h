#pragma once
// The process `vmrt exec` starts in a container: runc's rules. Either the
// whole OCI process object from --process, or the container's own process
// from its config.json with the command line and the flags applied (args,
// terminal, extra env replacing same-named variables, cwd, user, extra
// groups, added capabilities, no_new_privileges).

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/oci/spec.h"
#include "tools/vmrt/commands.h"

namespace vmrt::cli {

// The process as JSON text for the agent. Throws vmrt::Error naming the
// flag or the --process file for bad input (no command, a malformed
// process object, a user that is not uid[:gid]).
nlohmann::json exec_process(const ExecArgs& a, const oci::Spec& container_spec);

// The --process branch of exec_process: `text` is the file's content and
// `source` names it in messages ("--process FILE").
nlohmann::json exec_process_file(std::string_view text, const std::string& source, bool tty);

// A fresh exec id: "exec-" and 16 hex digits.
std::string new_exec_id();

}  // namespace vmrt::cli
