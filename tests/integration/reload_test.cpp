// SIGHUP reload: added, changed and removed paths take effect; a viewer of
// an unchanged path keeps playing on the same pipeline.
#include <gtest/gtest.h>
#include <signal.h>

#include "pipelines.h"
#include "process.h"
#include "rtsp_raw.h"
#include "viewer.h"

namespace gms::test {
namespace {

std::string conf_with(const std::vector<std::pair<std::string, std::string>>& paths) {
  std::string s = "[server]\nverbose=1\n";
  for (const auto& [name, launch] : paths)
    s += "[path " + name + "]\nlaunch=" + launch + "\n";
  return s;
}

void rewrite(const std::string& file, const std::string& text) {
  ASSERT_TRUE(g_file_set_contents(file.c_str(), text.data(), static_cast<gssize>(text.size()), nullptr));
}

TEST(Reload, KeepsUnchangedPathViewerAndAppliesChanges) {
  std::string conf = write_temp_file(
      "site.conf", conf_with({{"/keep", kH264Opus}, {"/change", kMjpeg}, {"/remove", kMjpeg}}));
  ServerProcess srv({conf});
  ASSERT_TRUE(srv.ready()) << srv.log();
  Viewer keep(srv.url("/keep"), "tcp");
  ASSERT_TRUE(wait_until([&] { return keep.video_frames() >= 10; }, 20s)) << srv.log();

  std::string changed = std::string(kMjpeg);
  changed.replace(changed.find("width=160,height=120"), 20, "width=176,height=144");
  rewrite(conf, conf_with({{"/keep", kH264Opus}, {"/change", changed}, {"/added", kMjpeg}}));
  srv.signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return srv.log_contains("configuration reloaded"); }, 10s))
      << srv.log();
  EXPECT_TRUE(srv.log_contains("reload: removed /remove"));
  EXPECT_TRUE(srv.log_contains("reload: changed /change"));
  EXPECT_TRUE(srv.log_contains("reload: added /added"));

  unsigned before = keep.video_frames();
  Viewer added(srv.url("/added"), "udp");
  Viewer change(srv.url("/change"), "udp");
  EXPECT_TRUE(wait_until([&] { return added.video_frames() >= 5 && change.video_frames() >= 5; }, 20s));
  EXPECT_EQ(change.width(), 176);
  EXPECT_TRUE(wait_until([&] { return keep.video_frames() >= before + 30; }, 20s));
  EXPECT_EQ(keep.error(), "");
  EXPECT_FALSE(keep.got_eos());
  EXPECT_FALSE(keep.pts_went_back());
  EXPECT_EQ(count_occurrences(srv.log(), "path /keep: new pipeline"), 1u) << srv.log();

  RawRtsp c(srv.port());
  RtspReply r = c.request("DESCRIBE " + srv.url("/remove") + " RTSP/1.0\r\nCSeq: 1\r\n\r\n");
  EXPECT_EQ(r.status, 404);
}

TEST(Reload, BadConfigurationKeepsTheRunningOne) {
  std::string conf = write_temp_file("site.conf", conf_with({{"/a", kMjpeg}}));
  ServerProcess srv({conf});
  ASSERT_TRUE(srv.ready());
  rewrite(conf, "[path /a]\nlaunch=videotestsrc ! fakesink\n");
  srv.signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return srv.log_contains("reload refused"); }, 10s)) << srv.log();
  EXPECT_TRUE(srv.log_contains("no payloader"));
  Viewer v(srv.url("/a"), "udp");
  EXPECT_TRUE(wait_until([&] { return v.video_frames() >= 5; }, 20s));
}

}  // namespace
}  // namespace gms::test
