#include "key_frame_nals.h"

#include "gms/ref.h"
#include "process.h"

namespace gms::test {

std::vector<std::string> key_frame_nals(bool h265) {
  std::string file = write_temp_file(h265 ? "key.h265" : "key.h264", "");
  RunResult r = run({"ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi",
                     "-i", "testsrc=size=64x64:rate=15", "-frames:v", "1", "-pix_fmt", "yuv420p",
                     "-c:v", h265 ? "libx265" : "libx264", "-preset", "ultrafast",
                     h265 ? "-x265-params" : "-x264-params", h265 ? "log-level=none" : "keyint=1",
                     "-f", h265 ? "hevc" : "h264", file},
                    60s);
  std::string data;
  GCharPtr contents;
  gsize size = 0;
  if (r.exit_status != 0 || !g_file_get_contents(file.c_str(), out(contents), &size, nullptr))
    return {};
  data.assign(contents.get(), size);
  // Annex B: units after 00 00 01 start codes (a 4-byte code leaves a 0
  // at the end of the unit before it, which decoders ignore).
  std::vector<std::string> nals;
  size_t at = data.find(std::string("\0\0\1", 3));
  while (at != std::string::npos) {
    size_t begin = at + 3;
    at = data.find(std::string("\0\0\1", 3), begin);
    std::string nal = data.substr(begin, at == std::string::npos ? std::string::npos : at - begin);
    while (!nal.empty() && nal.back() == '\0')
      nal.pop_back();
    if (!nal.empty())
      nals.push_back(nal);
  }
  return nals;
}

}  // namespace gms::test
