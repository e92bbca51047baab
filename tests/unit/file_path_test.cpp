// File mounts' pure parts: mapping a request path into a root, and the
// payloader whitelist.
#include <glib/gstdio.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "gms/ref.h"
#include "mounts/file_path.h"
#include "mounts/payloaders.h"

namespace gms::mounts {
namespace {

class FilePath : public testing::Test {
 protected:
  void SetUp() override {
    GCharPtr base(g_dir_make_tmp("gms-path-XXXXXX", nullptr));
    UniquePtr<char, free> real(realpath(base.get(), nullptr));
    base_ = real.get();
    root_ = base_ + "/root";
    g_mkdir(root_.c_str(), 0755);
    g_mkdir((root_ + "/dir").c_str(), 0755);
    g_file_set_contents((root_ + "/a.mp4").c_str(), "x", 1, nullptr);
    g_file_set_contents((root_ + "/dir/b c.mkv").c_str(), "x", 1, nullptr);
    g_file_set_contents((base_ + "/outside.mp4").c_str(), "x", 1, nullptr);
    symlink((base_ + "/outside.mp4").c_str(), (root_ + "/out.mp4").c_str());
    symlink((root_ + "/a.mp4").c_str(), (root_ + "/dir/in.mp4").c_str());
    symlink(base_.c_str(), (root_ + "/up").c_str());
  }
  std::string base_, root_;
};

TEST_F(FilePath, ServesFilesInsideTheRoot) {
  ResolvedFile f = resolve_in_root(root_, "a.mp4");
  EXPECT_EQ(f.status, 200);
  EXPECT_EQ(f.path, root_ + "/a.mp4");
  EXPECT_EQ(resolve_in_root(root_, "dir/b%20c.mkv").path, root_ + "/dir/b c.mkv");
  // A symlink that stays inside is followed to its real path.
  EXPECT_EQ(resolve_in_root(root_, "dir/in.mp4").path, root_ + "/a.mp4");
  // Out through a symlink and back in again: the real path is inside.
  EXPECT_EQ(resolve_in_root(root_, "up/root/a.mp4").path, root_ + "/a.mp4");
}

TEST_F(FilePath, RefusesEverythingElse) {
  struct Case {
    const char* rel;
    int status;
  } cases[] = {{"", 404},          {"dir", 404},          {"dir/", 404},
               {"../outside.mp4", 404}, {"dir/../a.mp4", 404}, {"%2e%2e/outside.mp4", 404},
               {"./a.mp4", 404},   {"/etc/passwd", 404},  {"dir//b%20c.mkv", 404},
               {"out.mp4", 404},   {"up/outside.mp4", 404},
               {"nope.mp4", 404},  {"a.mp4%00", 400},      {"a%0a.mp4", 400},
               {"a%7f.mp4", 400},  {"a%zz.mp4", 400},      {"a%2", 400},
               {"a.mp4/x", 404}};
  for (const auto& c : cases) {
    ResolvedFile f = resolve_in_root(root_, c.rel);
    EXPECT_EQ(f.status, c.status) << c.rel << ": " << f.reason;
    EXPECT_TRUE(f.path.empty()) << c.rel;
    EXPECT_FALSE(f.reason.empty()) << c.rel;
  }
  EXPECT_EQ(resolve_in_root(root_, std::string(256, 'n')).status, 404);
  EXPECT_EQ(resolve_in_root(root_, std::string(2000, 'n')).status, 404);
}

std::optional<PayloadPlan> plan(const char* caps, std::string* why = nullptr) {
  auto c = Ref<GstCaps>::adopt(gst_caps_from_string(caps));
  return plan_payload(c.get(), why);
}

TEST(TimeRange, ParsesStartAndDuration) {
  TimeRange r;
  std::string why;
  ASSERT_TRUE(parse_time_range("start=2026-11-24T10:00:00Z&duration=600", r, why)) << why;
  EXPECT_EQ(r.start_us, 1795514400LL * G_USEC_PER_SEC);
  EXPECT_EQ(r.duration_us, 600LL * G_USEC_PER_SEC);
  // Percent-escaped, fractions, other keys, a zone offset.
  ASSERT_TRUE(parse_time_range("x=1&start=2026-11-24T11%3A00%3A00.5%2B01:00&duration=1.5", r, why))
      << why;
  EXPECT_EQ(r.start_us, 1795514400LL * G_USEC_PER_SEC + G_USEC_PER_SEC / 2);
  EXPECT_EQ(r.duration_us, 1500000);
  // No zone: local time, as segments are named.
  ASSERT_TRUE(parse_time_range("start=2026-11-24T10:00:00&duration=5", r, why)) << why;
  GDateTime* local = g_date_time_new_local(2026, 11, 24, 10, 0, 0);
  EXPECT_EQ(r.start_us, g_date_time_to_unix(local) * G_USEC_PER_SEC);
  g_date_time_unref(local);
  EXPECT_TRUE(is_time_range_query("duration=1&start=x"));
  EXPECT_FALSE(is_time_range_query("token=abc"));
  EXPECT_FALSE(is_time_range_query(""));
}

TEST(TimeRange, RefusesBadRanges) {
  TimeRange r;
  std::string why;
  for (const char* q : {"duration=5", "start=yesterday&duration=5", "start=2026-11-24T10:00:00Z",
                        "start=2026-11-24T10:00:00Z&duration=0", "start=2026-11-24T10:00:00Z&duration=-3",
                        "start=2026-11-24T10:00:00Z&duration=86401", "start=2026-11-24T10:00:00Z&duration=5s",
                        "start=%zz&duration=5"}) {
    EXPECT_FALSE(parse_time_range(q, r, why)) << q;
    EXPECT_FALSE(why.empty()) << q;
  }
}

TEST(Payloaders, WhitelistByCaps) {
  EXPECT_EQ(plan("video/x-h264,stream-format=avc")->payloader, "rtph264pay");
  EXPECT_EQ(plan("video/x-h265")->payloader, "rtph265pay");
  EXPECT_EQ(plan("video/x-vp8")->payloader, "rtpvp8pay");
  EXPECT_EQ(plan("video/x-vp9")->payloader, "rtpvp9pay");
  EXPECT_EQ(plan("video/mpeg,mpegversion=4,systemstream=false")->payloader, "rtpmp4vpay");
  EXPECT_EQ(plan("image/jpeg")->payloader, "rtpjpegpay");
  EXPECT_EQ(plan("audio/x-opus,channels=2")->payloader, "rtpopuspay");
  EXPECT_EQ(plan("audio/mpeg,mpegversion=1,layer=3")->payloader, "rtpmpapay");
  EXPECT_EQ(plan("audio/x-ac3")->payloader, "rtpac3pay");
  EXPECT_EQ(plan("audio/x-vorbis")->payloader, "rtpvorbispay");
  EXPECT_EQ(plan("audio/x-mulaw")->payloader, "rtppcmupay");
  EXPECT_EQ(plan("audio/x-alaw")->payloader, "rtppcmapay");
  // AAC: raw as it is; ADTS repacked (no re-encoding).
  auto raw = plan("audio/mpeg,mpegversion=4,stream-format=raw");
  EXPECT_EQ(raw->payloader, "rtpmp4gpay");
  EXPECT_TRUE(raw->before.empty());
  auto adts = plan("audio/mpeg,mpegversion=4,stream-format=adts");
  ASSERT_EQ(adts->before.size(), 2u);
  EXPECT_EQ(adts->before[0].factory, "aacparse");
  // PCM: big-endian on the wire.
  auto pcm = plan("audio/x-raw,format=S16LE,rate=48000,channels=2");
  EXPECT_EQ(pcm->payloader, "rtpL16pay");
  EXPECT_EQ(pcm->before[1].caps, "audio/x-raw,format=S16BE");
}

TEST(Payloaders, NoPayloaderNoPlan) {
  std::string why;
  EXPECT_FALSE(plan("text/x-raw,format=utf8", &why));
  EXPECT_NE(why.find("text/x-raw"), std::string::npos);
  EXPECT_FALSE(plan("video/mpeg,mpegversion=2,systemstream=true", &why));
  EXPECT_FALSE(plan("audio/x-opus,channels=6", &why));
  EXPECT_NE(why.find("channels"), std::string::npos);
  if (!gst_element_factory_find("rtpav1pay")) {
    EXPECT_FALSE(plan("video/x-av1", &why));
    EXPECT_NE(why.find("rtpav1pay is not installed"), std::string::npos);
  }
}

}  // namespace
}  // namespace gms::mounts
