#pragma once
// process: what the container's init (or an exec'd process) becomes, env,
// cwd, the program search, standard streams or a terminal, and the sync
// socket between the parent and the child (runc's create/start split).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/container/capabilities.h"
#include "agent/container/child.h"
#include "agent/container/container.h"
#include "agent/container/rlimits.h"
#include "agent/container/seccomp.h"
#include "agent/container/user.h"
#include "common/fd.h"
#include "common/oci/spec.h"

namespace vmrt::agent {

struct ProcessPlan {
  std::vector<std::string> args, env;
  // Where args[0] may be, in order: itself when it has a '/', else each
  // directory of the process's own PATH (not the agent's).
  std::vector<std::string> candidates;
  std::string cwd;
  bool terminal = false;
  oci::ConsoleSize console_size;
  UserPlan user;
  CapabilityPlan capabilities;
  std::vector<RlimitSetting> rlimits;
  std::string oom_score_adj;                   // empty: unchanged
  std::shared_ptr<const SeccompPlan> seccomp;  // the container's; null: none
};

// Throws vmrt::Error naming the field ("process.env[2]: ...").
ProcessPlan plan_process(const oci::Process& process, std::shared_ptr<const SeccompPlan> seccomp,
                         const std::string& where = "process");

// The child's standard streams before they are installed, and the caller's
// ends.
struct PreparedStdio {
  StdioConfig::Kind kind = StdioConfig::Kind::Null;
  UniqueFd own[3];               // pipe ends or /dev/null opened for the child
  int source[3] = {-1, -1, -1};  // what becomes 0, 1, 2 (-1 with Terminal)
  ProcessStdio parent;
};
PreparedStdio prepare_stdio(const StdioConfig& config, bool plan_terminal);

// argv and envp as execve takes them, pointing into a ProcessPlan that must
// outlive them.
struct ExecArgs {
  std::vector<char*> argv, envp;
  explicit ExecArgs(ProcessPlan& plan);
};

// The parent's end of the sync socket.
class SyncChannel {
 public:
  SyncChannel();
  int child_end() const { return child_.get(); }
  void close_child_end() { child_.reset(); }
  void close() { parent_.reset(); }
  // The next report, with the descriptor sent along (the pty master) in
  // *fd; nullopt when the child closed its end (execve succeeded, or it died).
  std::optional<ChildReport> receive(UniqueFd* fd);
  void send_start();

 private:
  UniqueFd parent_, child_;
};

// Child steps of the process part, in the order init.cpp calls them.
void set_oom_score_adj(const Child& child, const ProcessPlan& plan);
// Allocates the pty in the container's devpts and hands the master over.
void open_terminal(const Child& child, const ProcessPlan& plan, int* slave);
void change_dir(const Child& child, const ProcessPlan& plan);
// Installs 0, 1 and 2 (the terminal's slave as controlling tty when set).
void install_stdio(const Child& child, const PreparedStdio& stdio, int slave);
[[noreturn]] void exec_process(const Child& child, const ProcessPlan& plan, const ExecArgs& args);

}  // namespace vmrt::agent
