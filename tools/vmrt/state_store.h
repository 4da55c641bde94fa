#pragma once
// The vmrt CLI's record of its containers: one directory per container under
// the state root (--root, default /run/vmrt), holding state.json. Several
// vmrt invocations may work on the same container at once: a command that
// changes a container holds an exclusive lock on its directory; readers
// (state, list) do not lock, since every write replaces state.json
// atomically (write a temporary file, then rename).

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/container_id.h"
#include "common/fd.h"

namespace vmrt::cli {

// The OCI runtime states, plus the exit status once stopped.
enum class Status { Creating, Created, Running, Paused, Stopped };
const char* status_name(Status s);  // "creating", "created", ...

// A host process identified beyond its pid: the start time (field 22 of
// /proc/PID/stat, clock ticks since boot) tells a live process from a later
// one that reused the pid.
struct ProcessId {
  pid_t pid = 0;
  uint64_t start_time = 0;
  // The running process `pid`, with its current start time; throws
  // vmrt::Error when there is no such process.
  static ProcessId of(pid_t pid);
  // True while that very process exists (a zombie counts as gone).
  bool alive() const;

  bool operator==(const ProcessId&) const = default;
};

struct ContainerRecord {
  std::string id;
  std::filesystem::path bundle;  // absolute
  std::filesystem::path rootfs;  // absolute: the bundle's root.path resolved
  // The bundle's config.json ociVersion, which runc's state reports.
  std::string oci_version;
  Status status = Status::Creating;
  // The process that keeps the sandbox (VMM parent, stdio relay, exit
  // status writer) and the VMM itself. The OCI state's "pid" is the
  // keeper's: it lives exactly as long as the container, its exit status is
  // the container's, and signals sent to it reach the container.
  ProcessId keeper;
  ProcessId vmm;
  std::filesystem::path vm_socket;    // hybrid vsock socket of the VM
  std::filesystem::path console_log;  // guest console
  bool from_template = false;         // the VM was restored from a VM template
  // The container's limits the VM is sized for (sandbox/vm_size.h), which
  // `vmrt update` changes.
  uint64_t limit_memory_bytes = 0;
  uint64_t limit_millicpus = 0;
  uint32_t init_pid = 0;  // container init, as the guest sees it
  std::string created;    // RFC 3339, UTC, nanoseconds
  std::map<std::string, std::string> annotations;
  std::optional<int> exit_status;  // shell convention: code or 128+signal
  std::string error;               // why the sandbox ended, when it failed

  bool operator==(const ContainerRecord&) const = default;
};

// The status to report: the recorded one, or Stopped when the keeper is gone
// (it died, or the VMM died and it recorded nothing). A record without a
// keeper yet (pid 0: written by create before it started one) keeps its
// recorded status.
Status effective_status(const ContainerRecord& r);

// The OCI state JSON (ociVersion, id, status, pid, bundle, annotations) plus
// runc's extra fields (rootfs, created, owner), in runc's order: ociVersion,
// id, pid, status, bundle, rootfs, created, annotations (only when there are
// any), owner. "pid" is the keeper's, 0 once stopped. runc's `state` prints
// owner "" and its `list --format json` the owner of the state directory
// (StateStore::owner). Ordered so the text matches runc's field for field.
nlohmann::ordered_json oci_state_json(const ContainerRecord& r, const std::string& owner = "");

nlohmann::json to_json(const ContainerRecord& r);
ContainerRecord record_from_json(const nlohmann::json& j, const std::string& source);
// state.json's text; malformed JSON is a corrupt record, named as such.
ContainerRecord record_from_text(std::string_view text, const std::string& source);

class StateStore;

// A container's state directory, locked exclusively while this object lives.
// The lock is a flock on the directory, which belongs to the open file
// description: a child forked while it is held shares it and keeps it until
// the child closes its copy of the descriptor or execs (it is O_CLOEXEC).
class LockedContainer {
 public:
  LockedContainer(LockedContainer&&) noexcept = default;
  LockedContainer& operator=(LockedContainer&&) noexcept = default;

  const std::string& id() const noexcept { return id_; }
  const std::filesystem::path& dir() const noexcept { return dir_; }
  ContainerRecord read() const;          // throws when state.json is missing/corrupt
  void write(const ContainerRecord& r);  // atomic replace
  // Removes the directory and everything in it (remove_tree: refuses to
  // cross into a mount); the lock goes with it.
  void remove() &&;

 private:
  friend class StateStore;
  LockedContainer(std::string id, std::filesystem::path dir, UniqueFd lock)
      : id_(std::move(id)), dir_(std::move(dir)), lock_(std::move(lock)) {}
  std::string id_;
  std::filesystem::path dir_;
  UniqueFd lock_;
};

class StateStore {
 public:
  // Creates `root` (mode 0711) when missing.
  explicit StateStore(std::filesystem::path root);
  const std::filesystem::path& root() const noexcept { return root_; }

  // Creates ROOT/ID (mode 0711) and locks it; exactly one of several
  // concurrent creators of the same id succeeds, the others get
  // "container ID already exists". The directory appears under ROOT already
  // locked (made under a temporary name, then renamed without replacing), so
  // no other command ever sees it unlocked and empty.
  LockedContainer create(const std::string& id);
  // The same, with `first` (id = first.id) already in state.json when the
  // directory appears: readers never find it without a record.
  LockedContainer create(const ContainerRecord& first);
  // Locks an existing container, waiting for another command's lock;
  // throws "container ID does not exist".
  LockedContainer lock(const std::string& id);
  // Reads without locking (state, list); throws "container ID does not exist".
  ContainerRecord read(const std::string& id) const;
  // Ids of every container directory, sorted; directories without a
  // readable state.json (a create that died before its first write) are
  // included so that delete can clean them up. Entries that are not valid
  // ids (a create's temporary directory) are not.
  std::vector<std::string> ids() const;
  // The user owning the container's directory, as runc's list shows it: the
  // user name, or "#UID" when the uid has none.
  std::string owner(const std::string& id) const;

 private:
  // ROOT/ID made and locked; `first`, when given, already in it.
  std::pair<std::filesystem::path, UniqueFd> create_locked(const std::string& id,
                                                           const ContainerRecord* first);
  std::filesystem::path root_;
};

}  // namespace vmrt::cli
