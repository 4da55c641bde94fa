#pragma once
// A temporary directory removed, with everything in it, when the owner goes
// away. Removal never follows symlinks: a link to a directory outside is
// removed, not what it points to.

#include <filesystem>
#include <string>
#include <utility>

namespace vmrt {

// Removes `path` and everything below it without following symlinks (each
// directory is opened relative to its parent with O_NOFOLLOW, so a directory
// swapped for a link during the walk is not entered) and without descending
// into a mount: a directory whose mount id (statx) differs from its parent's,
// a bind mount of the same filesystem included, is neither emptied nor
// removed, and the removal fails naming it. So does a file mounted on, and a
// `path` that is itself a mount point. A missing `path` is not an error.
// Throws vmrt::Error naming what could not be removed.
void remove_tree(const std::filesystem::path& path);

class TempDir {
 public:
  // Creates PREFIX.XXXXXX under `base` (default: $TMPDIR or /tmp).
  explicit TempDir(const std::string& prefix = "vmrt", std::filesystem::path base = {});
  TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  TempDir& operator=(TempDir&&) = delete;
  TempDir(const TempDir&) = delete;
  ~TempDir();  // remove_tree; a failure is logged, not thrown

  const std::filesystem::path& path() const noexcept { return path_; }
  // Keeps the directory: the caller owns it from now on.
  std::filesystem::path release() noexcept { return std::exchange(path_, {}); }

 private:
  std::filesystem::path path_;
};

}  // namespace vmrt
