// max-pipelines: a new (unprepared) media takes a place once, gives it back
// when it is unprepared or finalized, and the one beyond the cap is refused
// with the reason; publishers' medias and medias already prepared take none.
#include <gst/rtsp-server/rtsp-media.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/pipeline_cap.h"
#include "gms/ref.h"

namespace gms {
namespace {

Ref<GstRTSPMedia> new_media() {
  return Ref<GstRTSPMedia>::adopt(gst_rtsp_media_new(gst_bin_new(nullptr)));
}

TEST(PipelineCap, NewMediasTakeAPlaceUpToTheCap) {
  PipelineCap cap(2);
  auto a = new_media(), b = new_media(), c = new_media();
  std::string why;
  EXPECT_TRUE(cap.admit(a.get(), why));
  EXPECT_TRUE(cap.admit(a.get(), why));  // the same media again: one place
  EXPECT_EQ(cap.prepared(), 1u);
  EXPECT_TRUE(cap.admit(b.get(), why));
  EXPECT_EQ(cap.prepared(), 2u);
  EXPECT_FALSE(cap.admit(c.get(), why));
  EXPECT_EQ(why, "max-pipelines (2) reached");
  EXPECT_EQ(cap.refusals(), 1u);
  EXPECT_EQ(cap.prepared(), 2u);
  // Unprepared: its place is free (and it takes one again if prepared again).
  g_signal_emit_by_name(a.get(), "unprepared");
  EXPECT_EQ(cap.prepared(), 1u);
  g_signal_emit_by_name(a.get(), "unprepared");
  EXPECT_EQ(cap.prepared(), 1u);
  EXPECT_TRUE(cap.admit(c.get(), why));
  EXPECT_EQ(cap.prepared(), 2u);
  // Finalized without its "unprepared": the place is given back too.
  b = {};
  EXPECT_EQ(cap.prepared(), 1u);
  c = {};
  EXPECT_EQ(cap.prepared(), 0u);
}

TEST(PipelineCap, ZeroIsNoCapAndALowerCapWaitsForPlaces) {
  PipelineCap cap(0);
  std::vector<Ref<GstRTSPMedia>> medias;
  std::string why;
  for (int i = 0; i < 100; ++i) {
    medias.push_back(new_media());
    EXPECT_TRUE(cap.admit(medias.back().get(), why));
  }
  EXPECT_EQ(cap.prepared(), 100u);
  cap.set_max(10);
  auto one_more = new_media();
  EXPECT_FALSE(cap.admit(one_more.get(), why));
  medias.resize(9);
  EXPECT_TRUE(cap.admit(one_more.get(), why));
  EXPECT_EQ(cap.prepared(), 10u);
}

TEST(PipelineCap, PublishersAreNotCounted) {
  PipelineCap cap(1);
  auto viewer = new_media(), publisher = new_media();
  gst_rtsp_media_set_transport_mode(publisher.get(), GST_RTSP_TRANSPORT_MODE_RECORD);
  std::string why;
  EXPECT_TRUE(cap.admit(viewer.get(), why));
  EXPECT_TRUE(cap.admit(publisher.get(), why));
  EXPECT_EQ(cap.prepared(), 1u);
}

// Medias may outlive the cap (a server gone before its last viewer's
// media): their places are then given back to nobody, without harm.
TEST(PipelineCap, MediasOutliveTheCap) {
  auto media = new_media();
  {
    PipelineCap cap(1);
    std::string why;
    EXPECT_TRUE(cap.admit(media.get(), why));
  }
  g_signal_emit_by_name(media.get(), "unprepared");
  media = {};
}

}  // namespace
}  // namespace gms
