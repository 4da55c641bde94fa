#include "common/tempdir.h"

#include <cstdlib>
#include <system_error>

#include "common/error.h"

namespace vmrt {

TempDir::TempDir(const std::string& prefix, std::filesystem::path base) {
  if (base.empty()) {
    const char* env = std::getenv("TMPDIR");
    base = env && *env ? env : "/tmp";
  }
  std::string templ = (base / (prefix + ".XXXXXX")).string();
  if (!mkdtemp(templ.data()))
    throw_errno("cannot create a temporary directory under " + base.string());
  path_ = templ;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  // remove_all removes symlinks themselves and does not descend into them.
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace vmrt
