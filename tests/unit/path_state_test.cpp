// A Path's state and events (with a scripted Source), the observer list on
// its own, and PathTraffic's sums over msstats elements and readers.
#include <gst/check/gstharness.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness.h"
#include "path/path.h"
#include "path/path_events.h"
#include "path/path_traffic.h"

namespace gms {
namespace {

TEST(PathEvents, SubscribersHearEveryEventInOrderUntilTheyLeave) {
  PathEvents ev;
  std::vector<std::string> heard;
  auto a = ev.subscribe([&](const PathEvent& e) { heard.push_back("a:" + e.path); });
  auto b = ev.subscribe([&](const PathEvent& e) { heard.push_back(std::string("b:") + event_name(e.kind)); });
  EXPECT_NE(a, 0u);
  EXPECT_NE(a, b);
  PathEvent e;
  e.path = "/cam";
  e.kind = PathEvent::Kind::kReaderJoined;
  ev.emit(e);
  ev.unsubscribe(a);
  ev.unsubscribe(a);   // twice: ignored
  ev.unsubscribe(999);  // unknown: ignored
  ev.emit(e);
  EXPECT_EQ(heard, (std::vector<std::string>{"a:/cam", "b:reader-joined", "b:reader-joined"}));
  EXPECT_EQ(ev.size(), 1u);
}

TEST(PathEvents, CallbacksMayUnsubscribeAndSubscribeWhileCalled) {
  PathEvents ev;
  int once = 0, later = 0, second = 0;
  PathEvents::Token self = 0, other = 0;
  self = ev.subscribe([&](const PathEvent&) {
    once++;
    ev.unsubscribe(self);   // itself, while it runs
    ev.unsubscribe(other);  // one not called yet: skipped from now on
    ev.subscribe([&](const PathEvent&) { later++; });  // first hears the next event
  });
  other = ev.subscribe([&](const PathEvent&) { second++; });
  ev.emit({});
  EXPECT_EQ(once, 1);
  EXPECT_EQ(second, 0);
  EXPECT_EQ(later, 0);
  ev.emit({});
  EXPECT_EQ(once, 1);
  EXPECT_EQ(later, 1);
}

TEST(PathState, Names) {
  EXPECT_STREQ(state_name(PathState::kIdle), "idle");
  EXPECT_STREQ(state_name(PathState::kStarting), "starting");
  EXPECT_STREQ(state_name(PathState::kReady), "ready");
  EXPECT_STREQ(state_name(PathState::kRetrying), "retrying");
  EXPECT_STREQ(state_name(PathState::kStopping), "stopping");
  EXPECT_STREQ(event_name(PathEvent::Kind::kSourceReady), "source-ready");
  EXPECT_STREQ(event_name(PathEvent::Kind::kSourceLost), "source-lost");
  EXPECT_STREQ(event_name(PathEvent::Kind::kReaderLeft), "reader-left");
  EXPECT_STREQ(event_name(PathEvent::Kind::kSegmentWritten), "segment-written");
}

// A source whose state and channels the test sets.
class ScriptedSource : public Source {
 public:
  const char* kind() const override { return "launch"; }
  void attach(GMainContext*) override {}
  void stop() override { stopped = true; }
  void hold(bool) override {}
  std::vector<std::string> ready_channels() const override {
    return state == PathState::kReady ? std::vector<std::string>{"c0", "c1"} : std::vector<std::string>{};
  }
  std::vector<Ref<GstCaps>> track_caps() const override {
    if (state != PathState::kReady)
      return {};
    return {Ref<GstCaps>::adopt(gst_caps_from_string("application/x-rtp,media=video")),
            Ref<GstCaps>::adopt(gst_caps_from_string("application/x-rtp,media=audio"))};
  }
  bool live() const override { return state == PathState::kReady; }
  bool returns_after_outage() const override { return true; }
  PathState path_state() const override { return state; }

  PathState state = PathState::kIdle;
  bool stopped = false;
};

TEST(PathState, FollowsItsSourceAndTellsReadyAndLostOnce) {
  auto src = std::make_shared<ScriptedSource>();
  Path path("/cam", src);
  std::vector<PathEvent> heard;
  path.events().subscribe([&](const PathEvent& e) { heard.push_back(e); });

  EXPECT_EQ(path.state(), PathState::kIdle);
  src->state = PathState::kStarting;
  path.source_changed();
  EXPECT_EQ(path.state(), PathState::kStarting);
  EXPECT_TRUE(heard.empty());  // not delivering yet: nothing to tell

  src->state = PathState::kReady;
  path.source_changed();
  path.source_changed();  // no change: no second event
  ASSERT_EQ(heard.size(), 1u);
  EXPECT_EQ(heard[0].kind, PathEvent::Kind::kSourceReady);
  EXPECT_EQ(heard[0].path, "/cam");
  ASSERT_EQ(heard[0].caps.size(), 2u);
  EXPECT_TRUE(gst_structure_has_field_typed(gst_caps_get_structure(heard[0].caps[1].get(), 0), "media",
                                            G_TYPE_STRING));

  src->state = PathState::kRetrying;
  path.source_changed();
  EXPECT_EQ(path.state(), PathState::kRetrying);
  ASSERT_EQ(heard.size(), 2u);
  EXPECT_EQ(heard[1].kind, PathEvent::Kind::kSourceLost);

  path.stop();
  EXPECT_EQ(path.state(), PathState::kStopping);
  EXPECT_TRUE(src->stopped);
}

TEST(PathState, UpdateRecordingTellsTheSourceChangeToo) {
  auto src = std::make_shared<ScriptedSource>();
  Path path("/cam", src);
  int ready = 0;
  path.events().subscribe([&](const PathEvent& e) { ready += e.kind == PathEvent::Kind::kSourceReady; });
  src->state = PathState::kReady;
  path.update_recording(false, {}, nullptr);
  EXPECT_EQ(ready, 1);
}

// Pushes `n` RTP packets of `size` bytes (sequence from `seq`, marker on
// every second one) through an msstats element on a harness.
void push_rtp(GstHarness* h, unsigned n, guint size, guint16 seq) {
  for (unsigned i = 0; i < n; ++i) {
    GstBuffer* buf = gst_rtp_buffer_new_allocate(size - 12, 0, 0);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    ASSERT_TRUE(gst_rtp_buffer_map(buf, GST_MAP_WRITE, &rtp));
    gst_rtp_buffer_set_seq(&rtp, guint16(seq + i));
    gst_rtp_buffer_set_marker(&rtp, i % 2 == 1);
    gst_rtp_buffer_unmap(&rtp);
    GST_BUFFER_PTS(buf) = i * 20 * GST_MSECOND;
    ASSERT_EQ(gst_harness_push(h, buf), GST_FLOW_OK);
    gst_buffer_unref(gst_harness_pull(h));
  }
}

test::HarnessPtr rtp_harness() {
  test::HarnessPtr h(gst_harness_new("msstats"));
  gst_harness_set_src_caps_str(h.get(), "application/x-rtp,media=video,clock-rate=90000,payload=96");
  return h;
}

TEST(PathTraffic, SumsTracksAndKeepsWhatReplacedElementsCounted) {
  PathTraffic t;
  auto v1 = rtp_harness(), a = rtp_harness();
  t.tap(0, v1->element);
  t.tap(1, a->element);
  push_rtp(v1.get(), 10, 100, 0);
  push_rtp(a.get(), 4, 50, 0);
  TrafficFigures f = t.figures();
  EXPECT_EQ(f.bytes_in, 10u * 100 + 4 * 50);
  EXPECT_EQ(f.packets_in, 14u);
  EXPECT_EQ(f.frames, 5u + 2);
  EXPECT_EQ(f.lost, 0u);
  EXPECT_GT(f.last_activity_us, 0);

  // The source runs again (a new publisher, a back end back): track 0 has
  // a new element, with a hole in its sequence numbers.
  auto v2 = rtp_harness();
  t.tap(0, v2->element);
  push_rtp(v2.get(), 3, 100, 500);
  push_rtp(v2.get(), 2, 100, 505);  // 503 and 504 missing
  f = t.figures();
  EXPECT_EQ(f.bytes_in, 15u * 100 + 4 * 50);
  EXPECT_EQ(f.packets_in, 19u);
  EXPECT_EQ(f.lost, 2u);
  EXPECT_EQ(f.gaps, 1u);
}

TEST(PathTraffic, ReadersByTransportJoinOnceAndLeave) {
  PathTraffic t;
  int a, b, c;
  EXPECT_TRUE(t.reader_joined(&a, ReaderTransport::kTcp, {}));
  EXPECT_FALSE(t.reader_joined(&a, ReaderTransport::kTcp, {}));  // the same reader again
  EXPECT_TRUE(t.reader_joined(&b, ReaderTransport::kUdp, {}));
  EXPECT_TRUE(t.reader_joined(&c, ReaderTransport::kUdpMulticast, {}));
  TrafficFigures f = t.figures();
  EXPECT_EQ(f.readers[size_t(ReaderTransport::kTcp)], 1u);
  EXPECT_EQ(f.readers[size_t(ReaderTransport::kUdp)], 1u);
  EXPECT_EQ(f.readers[size_t(ReaderTransport::kUdpMulticast)], 1u);
  EXPECT_EQ(f.readers_total(), 3u);
  EXPECT_TRUE(t.reader_left(&b));
  EXPECT_FALSE(t.reader_left(&b));
  EXPECT_EQ(t.figures().readers_total(), 2u);
  EXPECT_STREQ(transport_name(ReaderTransport::kUdpMulticast), "udp-multicast");
}

}  // namespace
}  // namespace gms
