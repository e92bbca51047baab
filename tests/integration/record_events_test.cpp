// The recorder follows its path's tracks: it starts when they deliver, not
// when a fixed tick happened to look.
#include <glib/gstdio.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "child.h"
#include "process.h"
#include "publish_raw.h"

namespace gms::test {
namespace {

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> out;
  if (GDir* d = g_dir_open(dir.c_str(), 0, nullptr)) {
    while (const char* name = g_dir_read_name(d))
      out.push_back(dir + "/" + name);
    g_dir_close(d);
  }
  return out;
}

// ffmpeg's libx264 without -tune zerolatency holds its first frames back
// for its look-ahead: the first packet comes about a second after RECORD.
// The track has no caps until then, and a recorder that chose its codecs
// at once left the track out for good.
TEST(RecordEvents, PublisherWithLateFirstPacketIsRecorded) {
  GCharPtr dir(g_dir_make_tmp("gms-rec-XXXXXX", nullptr));
  ASSERT_TRUE(dir);
  ServerProcess srv({"-v", "--publish", "/live/*", "--record-dir", dir.get()});
  ASSERT_TRUE(srv.ready()) << srv.log();
  Child pub({"ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i",
             "testsrc2=size=640x360:rate=25", "-t", "8", "-c:v", "libx264", "-f", "rtsp",
             "-rtsp_transport", "tcp", srv.url("/live/rec")});
  ASSERT_TRUE(wait_until([&] { return srv.log_contains("recording /live/rec into"); }, 15s))
      << srv.log_tail();
  EXPECT_FALSE(srv.log_contains("left out")) << srv.log_tail();
  const std::string seg_dir = std::string(dir.get()) + "/live/rec";
  EXPECT_TRUE(wait_until(
      [&] {
        for (const auto& f : files_in(seg_dir)) {
          GStatBuf st;
          if (g_stat(f.c_str(), &st) == 0 && st.st_size > 20000)
            return true;
        }
        return false;
      },
      15s))
      << srv.log_tail();
  pub.wait(20000);
}

}  // namespace
}  // namespace gms::test
