#include "record/segment_media.h"

#include <algorithm>
#include <string_view>

#include "gms/ref.h"

namespace gms::record {
namespace {

// An MP4's top-level boxes: media once a fragment (moof) or a media data
// box with content (mdat) comes.
bool mp4_holds_media(std::string_view data) {
  size_t at = 0;
  while (at + 8 <= data.size()) {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data() + at);
    guint64 size = (guint64(p[0]) << 24) | (guint64(p[1]) << 16) | (guint64(p[2]) << 8) | p[3];
    std::string_view type = data.substr(at + 4, 4);
    size_t header = 8;
    if (size == 1) {  // a 64-bit size follows the type
      if (at + 16 > data.size())
        return true;  // cut inside a header: not a header-only file
      size = 0;
      for (int i = 8; i < 16; ++i)
        size = (size << 8) | p[i];
      header = 16;
    } else if (size == 0) {  // to the end of the file
      size = data.size() - at;
    }
    if (type == "moof" || (type == "mdat" && size > header))
      return true;
    if (size < header)
      return true;  // not a box structure this reads: let the demuxer say
    at += size_t(std::min<guint64>(size, data.size() - at));
  }
  return false;
}

// A Matroska file's first cluster (its element ID, 1F 43 B6 75).
bool mkv_holds_media(std::string_view data) {
  return data.find("\x1f\x43\xb6\x75") != std::string_view::npos;
}

}  // namespace

bool segment_holds_media(const std::string& path, guint64 size) {
  if (size >= kHeaderOnlyMaxBytes)
    return true;
  const bool mp4 = g_str_has_suffix(path.c_str(), ".mp4");
  const bool mkv = g_str_has_suffix(path.c_str(), ".mkv");
  if (!mp4 && !mkv)
    return true;
  GCharPtr bytes;
  gsize len = 0;
  if (!g_file_get_contents(path.c_str(), out(bytes), &len, nullptr) || len >= kHeaderOnlyMaxBytes)
    return true;  // unreadable, or grown since: the demuxer decides
  std::string_view data(bytes.get(), len);
  return mp4 ? mp4_holds_media(data) : mkv_holds_media(data);
}

}  // namespace gms::record
