// --check for root paths: walk the directory and probe every file, as a
// client asking for it would.
#include <glib.h>

#include <algorithm>
#include <cstdlib>

#include "mounts/file_mount.h"
#include "mounts/file_path.h"

namespace gms::mounts {
namespace {

constexpr int kMaxDepth = 16;
constexpr size_t kMaxFiles = 20000;
constexpr std::chrono::milliseconds kProbeTimeout{5000};

// A URL path segment: unreserved characters as they are, the rest escaped.
std::string escape_segment(const std::string& s) {
  GCharPtr e(g_uri_escape_string(s.c_str(), "!$&'()*+,;=:@", FALSE));
  return e.get();
}

void walk(const std::string& root_real, const std::string& dir_rel, int depth,
          std::vector<std::string>& files, std::vector<std::string>* skipped) {
  if (depth > kMaxDepth || files.size() >= kMaxFiles)
    return;
  std::string dir = root_real + (dir_rel.empty() ? "" : "/" + dir_rel);
  UniquePtr<GDir, g_dir_close> d(g_dir_open(dir.c_str(), 0, nullptr));
  if (!d)
    return;
  std::vector<std::string> names;
  while (const char* n = g_dir_read_name(d.get()))
    names.emplace_back(n);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    std::string rel = dir_rel.empty() ? n : dir_rel + "/" + n;
    std::string full = root_real + "/" + rel;
    if (g_file_test(full.c_str(), G_FILE_TEST_IS_DIR)) {
      if (!g_file_test(full.c_str(), G_FILE_TEST_IS_SYMLINK))
        walk(root_real, rel, depth + 1, files, skipped);
      continue;
    }
    files.push_back(rel);
    if (files.size() >= kMaxFiles) {
      if (skipped)
        skipped->push_back("more than " + std::to_string(kMaxFiles) + " files; stopped listing");
      return;
    }
  }
}

}  // namespace

std::vector<ServableFile> scan_root(const PathConfig& path, std::vector<std::string>* skipped) {
  std::vector<ServableFile> out;
  UniquePtr<char, free> real(realpath(path.root.c_str(), nullptr));
  std::string root_real = real ? real.get() : path.root;
  if (root_real == "/")
    root_real.clear();
  std::vector<std::string> files;
  walk(root_real, "", 0, files, skipped);
  std::string prefix = path.name == "/" ? "" : path.name;
  for (const auto& rel : files) {
    std::string url_rel;
    gchar** segs = g_strsplit(rel.c_str(), "/", -1);
    for (gchar** s = segs; *s; ++s)
      url_rel += (url_rel.empty() ? "" : "/") + escape_segment(*s);
    g_strfreev(segs);
    ResolvedFile f = resolve_in_root(root_real, url_rel);
    if (f.status != 200) {
      if (skipped)
        skipped->push_back(rel + ": " + f.reason);
      continue;
    }
    MediaInfo info = probe_media(f.path, kProbeTimeout);
    if (!info.ok || info.servable_tracks() == 0) {
      if (skipped)
        skipped->push_back(rel + ": " + (info.ok ? "no track can be streamed" : info.reason));
      continue;
    }
    out.push_back({prefix + "/" + url_rel, info.summary()});
  }
  return out;
}

}  // namespace gms::mounts
