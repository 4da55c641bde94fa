#pragma once
// Whether a VM template is still worth restoring from, and the lock under
// which its directory is made, looked at and removed.
//
// A restore that vmrt-vmm refused on the snapshot itself (unreadable,
// corrupt, made for another VM) discards the template at once. One that
// failed otherwise (a guest lost, an agent that did not answer in time on a
// loaded host) keeps it: discarding it would make every sandbox starting
// beside this one boot too, and the next one make it again. Only
// kMaxFailedRestores such failures in a row, with no restore that worked
// between them, discard it: a snapshot whose guest never comes back is not
// restored forever.

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/fd.h"

namespace vmrt::sandbox {

// A file as a template's key.json records it (path, device, inode, size,
// modification and change times): another identity is another file, or the
// same one rewritten. Throws vmrt::Error when it cannot be read.
nlohmann::json file_identity(const std::filesystem::path& p);

// An exclusive flock(2) on `path` (created if missing), held for its life.
class TemplateLock {
 public:
  explicit TemplateLock(const std::filesystem::path& path);
  // The lock of the template in `dir`: ROOT/KEY.lock beside ROOT/KEY.
  static std::filesystem::path path_for(const std::filesystem::path& dir);

 private:
  UniqueFd fd_;  // closing it unlocks
};

class RestoreRecord {
 public:
  static constexpr int kMaxFailedRestores = 3;

  // For the template now in `dir`. A template made again in its place later
  // is another one, whose record this does not touch.
  explicit RestoreRecord(std::filesystem::path dir);

  // Counts a failed restore; true when the template was discarded (removed
  // now, so that the next sandbox makes a new one).
  bool failed(bool snapshot_unusable) noexcept;
  // A restore worked: the failures before it were not the template's.
  void succeeded() noexcept;

 private:
  bool same_template() const;
  std::filesystem::path failures_file() const { return dir_ / "failed_restores"; }

  std::filesystem::path dir_;
  // Which template: its state file's identity (times included, since an
  // inode number may be reused by the next one made); null when none.
  nlohmann::json state_;
};

}  // namespace vmrt::sandbox
