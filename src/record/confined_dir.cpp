#include "record/confined_dir.h"

#include <errno.h>
#include <glib/gstdio.h>

#include <climits>
#include <cstdlib>

namespace gms {
namespace {

// `path` resolves to `root` or under it.
bool inside(const std::string& path, const std::string& root) {
  char buf[PATH_MAX];
  if (!realpath(path.c_str(), buf))
    return false;
  const std::string real(buf);
  if (real == root || root == "/")
    return true;
  return real.size() > root.size() && real.compare(0, root.size(), root) == 0 &&
         real[root.size()] == '/';
}

}  // namespace

std::string resolved_dir(const std::string& root) {
  char buf[PATH_MAX];
  return realpath(root.c_str(), buf) ? std::string(buf) : root;
}

bool make_dir_inside(const std::string& dir, const std::string& root,
                     const std::string& resolved_root, std::string& why) {
  std::string given = root;
  while (given.size() > 1 && given.back() == '/')
    given.pop_back();
  if (dir != given && dir.compare(0, given.size() + 1, given + "/") != 0) {
    why = dir + " is not under " + given;
    return false;
  }
  if (g_mkdir_with_parents(given.c_str(), 0755) != 0) {
    why = "cannot create " + given + ": " + g_strerror(errno);
    return false;
  }
  // Each step: made if missing (mkdir never follows a link in its last
  // component), then resolved before anything is made inside it.
  size_t at = given.size();
  while (true) {
    const std::string step = dir.substr(0, at);
    if (g_mkdir(step.c_str(), 0755) != 0 && errno != EEXIST) {
      why = "cannot create " + step + ": " + g_strerror(errno);
      return false;
    }
    if (!g_file_test(step.c_str(), G_FILE_TEST_IS_DIR)) {
      why = "cannot create " + step + ": not a directory";
      return false;
    }
    if (!inside(step, resolved_root)) {
      why = step + " leads outside " + resolved_root + " (a symbolic link?)";
      return false;
    }
    if (at >= dir.size())
      return true;
    at = dir.find('/', at + 1);
    if (at == std::string::npos)
      at = dir.size();
  }
}

}  // namespace gms
