#pragma once
// linux.namespaces: which namespaces the container creates (clone flags) and
// which it joins by path.

#include <cstdint>
#include <string>
#include <vector>

#include "common/fd.h"
#include "common/oci/spec.h"

namespace vmrt::agent {

class Child;

struct NamespacePlan {
  struct Join {
    std::string type;  // as in the spec: "network", "ipc" ...
    std::string path;
    int nstype = 0;  // CLONE_NEW*
  };
  uint64_t clone_flags = 0;  // CLONE_NEW* created by clone3
  std::vector<Join> joins;   // joined with setns in the child (never pid: see below)
  // A pid namespace is entered by the parent thread before clone (setns on
  // pid only affects children), so it is kept apart from `joins`.
  std::string pid_path;

  // Created or joined: the container does not share the caller's.
  bool is_private(int nstype) const;
};

// Throws vmrt::Error naming the entry, e.g.
//   linux.namespaces[3]: user namespaces are not supported
NamespacePlan plan_namespaces(const std::vector<oci::Namespace>& namespaces);

// Opens the `joins` paths (in order), so that a missing one is an error of
// create() rather than of the child.
std::vector<UniqueFd> open_namespaces(const NamespacePlan& plan);

// Child: setns into each of `fds` (as opened by open_namespaces).
void join_namespaces(const Child& child, const NamespacePlan& plan,
                     const std::vector<UniqueFd>& fds);

// While alive, children cloned by the calling thread start in the pid
// namespace `nsfd` refers to; the thread's own pid namespace never changes.
class PidNamespaceForChildren {
 public:
  explicit PidNamespaceForChildren(int nsfd);  // nsfd < 0: no change
  ~PidNamespaceForChildren();
  PidNamespaceForChildren(const PidNamespaceForChildren&) = delete;
  PidNamespaceForChildren& operator=(const PidNamespaceForChildren&) = delete;

 private:
  UniqueFd own_;
};

}  // namespace vmrt::agent
