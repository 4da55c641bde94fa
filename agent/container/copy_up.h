#pragma once
// "tmpcopyup", runc's mount option that podman puts on every --tmpfs: the
// new tmpfs starts with a copy of what the directory it covers held, so that
// an image's files under /tmp or /run are still there.

namespace vmrt::agent {

// Copies what directory `from` holds into directory `to` (both open
// O_DIRECTORY): directories, regular files, symlinks and special files, with
// their owners and modes. Child-side code (child.h): system calls and the
// stack only. Returns 0, or the errno of the first failure.
int copy_up(int from, int to);

}  // namespace vmrt::agent
