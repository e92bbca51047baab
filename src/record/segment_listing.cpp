#include "record/segment_listing.h"

#include <glib/gstdio.h>
#include <sys/stat.h>

#include <algorithm>

#include "gms/ref.h"
#include "record/segment_names.h"

namespace gms::record {

std::vector<SegmentOnDisk> list_segments(const std::string& dir) {
  std::vector<SegmentOnDisk> out;
  auto d = UniquePtr<GDir, g_dir_close>(g_dir_open(dir.c_str(), 0, nullptr));
  if (!d)
    return out;
  while (const char* entry = g_dir_read_name(d.get())) {
    auto start = segment_start_from_name(entry);
    if (!start)
      continue;
    std::string path = dir + "/" + entry;
    GStatBuf st;
    // An empty file is a segment opened just before a kill -9: nothing in it.
    if (g_stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
      continue;
    gint64 mtime_us = gint64(st.st_mtim.tv_sec) * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000;
    out.push_back({entry, std::move(path), *start, mtime_us, guint64(st.st_size)});
  }
  std::sort(out.begin(), out.end(), [](const SegmentOnDisk& a, const SegmentOnDisk& b) {
    return a.start_us < b.start_us;
  });
  return out;
}

}  // namespace gms::record

namespace gms {

std::vector<RecordedSegment> recorded_segments(const std::string& directory) {
  return record::list_segments(directory);
}

}  // namespace gms
