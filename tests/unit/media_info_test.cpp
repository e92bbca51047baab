// Which probed files a viewer's pipeline may build as filesrc ! qtdemux
// without parsebin: only MP4s whose every served track comes out of the
// demuxer as its payloader takes it.
#include <gtest/gtest.h>

#include "mounts/media_probe.h"

namespace gms::mounts {
namespace {

TrackInfo track(const char* caps) {
  TrackInfo t;
  t.caps = Ref<GstCaps>::adopt(gst_caps_from_string(caps));
  t.plan = plan_payload(t.caps.get(), nullptr);
  return t;
}

MediaInfo info(const char* demuxer, std::vector<TrackInfo> tracks) {
  MediaInfo i;
  i.ok = true;
  i.demuxer = demuxer;
  i.tracks = std::move(tracks);
  return i;
}

const char kAvc[] = "video/x-h264,stream-format=avc,alignment=au";
const char kAac[] = "audio/mpeg,mpegversion=4,stream-format=raw";

TEST(MediaInfo, Mp4WithH264AndAacNeedsNoParser) {
  EXPECT_TRUE(info("qtdemux", {track(kAvc)}).payloadable_from_demuxer());
  EXPECT_TRUE(info("qtdemux", {track(kAvc), track(kAac)}).payloadable_from_demuxer());
  EXPECT_TRUE(info("qtdemux", {track("video/x-h265,stream-format=hvc1,alignment=au")})
                  .payloadable_from_demuxer());
}

TEST(MediaInfo, OtherContainersAndStreamsKeepParsebin) {
  EXPECT_FALSE(info("matroskademux", {track(kAvc)}).payloadable_from_demuxer());
  EXPECT_FALSE(info("", {track(kAvc)}).payloadable_from_demuxer());  // elementary stream
  EXPECT_FALSE(info("qtdemux", {track("video/x-h264,stream-format=byte-stream,alignment=au")})
                   .payloadable_from_demuxer());
  EXPECT_FALSE(info("qtdemux", {track("video/x-h264,stream-format=avc,alignment=nal")})
                   .payloadable_from_demuxer());
  EXPECT_FALSE(info("qtdemux", {track(kAvc), track("audio/mpeg,mpegversion=1,layer=3")})
                   .payloadable_from_demuxer());
  // ADTS AAC is repacked by aacparse in its payload chain.
  EXPECT_FALSE(info("qtdemux", {track("audio/mpeg,mpegversion=4,stream-format=adts")})
                   .payloadable_from_demuxer());
}

TEST(MediaInfo, TracksThatAreNotServedDoNotCount) {
  EXPECT_TRUE(info("qtdemux", {track(kAvc), track("text/x-raw,format=utf8")})
                  .payloadable_from_demuxer());
  EXPECT_FALSE(info("qtdemux", {track("text/x-raw,format=utf8")}).payloadable_from_demuxer());
}

}  // namespace
}  // namespace gms::mounts
