// What a client puts after a file root's mount point: the path (still
// percent-encoded) and the query of a recording's time range. The
// resolver must never answer with a file outside the root, whatever the
// bytes.
#include <glib.h>
#include <glib/gstdio.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "mounts/file_path.h"

namespace {

std::string make_root() {
  gchar* dir = g_dir_make_tmp("gms-fuzz-root-XXXXXX", nullptr);
  if (!dir)
    abort();
  std::string root(dir);
  g_free(dir);
  // A file and a folder to find, and a link that leads out of the root.
  g_file_set_contents((root + "/clip.mp4").c_str(), "x", 1, nullptr);
  g_mkdir((root + "/sub").c_str(), 0700);
  g_file_set_contents((root + "/sub/a b.mkv").c_str(), "x", 1, nullptr);
  if (symlink("/etc", (root + "/out").c_str()) != 0) {
  }
  gchar* real = realpath(root.c_str(), nullptr);
  std::string r(real);
  free(real);
  return r;
}

const std::string& root() {
  static const std::string r = make_root();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  auto q = in.find('?');
  std::string path = in.substr(0, q);
  std::string query = q == std::string::npos ? std::string() : in.substr(q + 1);

  for (bool dirs : {false, true}) {
    auto r = gms::mounts::resolve_in_root(root(), path, dirs);
    if (r.status == 200 && r.path.rfind(root(), 0) != 0)
      abort();  // a file outside the root
    if (r.status != 200 && r.status != 400 && r.status != 404)
      abort();
  }
  std::string decoded;
  (void)gms::mounts::percent_decode(path, decoded);
  if (gms::mounts::is_time_range_query(query)) {
    gms::mounts::TimeRange range;
    std::string why;
    if (gms::mounts::parse_time_range(query, range, why) &&
        (range.duration_us <= 0 || range.duration_us > 86400LL * 1000000))
      abort();  // the documented bounds
  }
  return 0;
}
