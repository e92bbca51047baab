// A path's figures against what a real client received: a launch line
// played over TCP by an rtspsrc that counts the RTP bytes,
// packets and frames (marker bits) it gets. The API's bytes_out and frames
// for the path, and /metrics' (read with a strict text-format reader), must
// match within 2 %; readers is 1 (tcp) while it plays and 0 once it left.
#include <gst/rtp/gstrtpbuffer.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "child.h"
#include "http_client.h"
#include "process.h"
#include "prom_text.h"
#include "publish_raw.h"

namespace gms::test {
namespace {

using namespace std::chrono_literals;

// One GOP for the whole run: the first viewer's GOP cache then holds every
// packet since the line started, so the viewer receives all the source
// produced. The client plays kFrames (4 s) before the figures are compared.
constexpr unsigned kFrames = 100;
const std::string kLine =
    "videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=25/1 ! "
    "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=1000 ! "
    "rtph264pay name=pay0 pt=96 config-interval=-1";

// rtspsrc over TCP; every RTP packet on its output pads is counted.
class CountingClient {
 public:
  // protocols: rtspsrc's GstRTSPLowerTrans flags (1 udp, 4 tcp).
  explicit CountingClient(const std::string& url, guint protocols = 4) {
    pipeline_ = Ref<GstElement>::adopt(gst_pipeline_new(nullptr));
    GstElement* src = gst_element_factory_make("rtspsrc", nullptr);
    g_object_set(src, "location", url.c_str(), "protocols", protocols, "latency", 0u, nullptr);
    gst_bin_add(GST_BIN(pipeline_.get()), src);
    g_signal_connect(src, "pad-added", G_CALLBACK(on_pad), this);
    gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING);
  }
  ~CountingClient() { stop(); }
  void stop() {
    if (pipeline_)
      gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
    pipeline_.reset();
  }
  uint64_t bytes() const { return bytes_; }
  uint64_t packets() const { return packets_; }
  uint64_t frames() const { return frames_; }

 private:
  static void on_pad(GstElement*, GstPad* pad, gpointer self) noexcept {
    auto* c = static_cast<CountingClient*>(self);
    GstElement* sink = gst_element_factory_make("fakesink", nullptr);
    g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
    gst_bin_add(GST_BIN(c->pipeline_.get()), sink);
    gst_element_sync_state_with_parent(sink);
    auto sinkpad = Ref<GstPad>::adopt(gst_element_get_static_pad(sink, "sink"));
    gst_pad_add_probe(pad, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                      on_data, self, nullptr);
    gst_pad_link(pad, sinkpad.get());
  }
  void count(GstBuffer* b) {
    bytes_ += gst_buffer_get_size(b);
    packets_++;
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (gst_rtp_buffer_map(b, GST_MAP_READ, &rtp)) {
      frames_ += gst_rtp_buffer_get_marker(&rtp) ? 1 : 0;
      gst_rtp_buffer_unmap(&rtp);
    }
  }
  static GstPadProbeReturn on_data(GstPad*, GstPadProbeInfo* info, gpointer self) noexcept {
    auto* c = static_cast<CountingClient*>(self);
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
      c->count(GST_PAD_PROBE_INFO_BUFFER(info));
    } else if (GstBufferList* l = GST_PAD_PROBE_INFO_BUFFER_LIST(info)) {
      for (guint i = 0; i < gst_buffer_list_length(l); ++i)
        c->count(gst_buffer_list_get(l, i));
    }
    return GST_PAD_PROBE_OK;
  }

  Ref<GstElement> pipeline_;
  std::atomic<uint64_t> bytes_{0}, packets_{0}, frames_{0};
};

struct PathView {
  bool found = false;
  std::string state;
  int64_t readers_tcp = -1, readers_udp = -1, bytes_in = 0, bytes_out = 0, frames = 0, key_frames = 0;
  int64_t gaps = -1, reconnects = -1, publishers = -1;
  double bitrate = 0;
  std::string last_activity;
};

int64_t int_member(JsonObject* o, const char* name) {
  return o && json_object_has_member(o, name) ? json_object_get_int_member(o, name) : -1;
}

PathView path_view(const ServerProcess& srv, const std::string& name) {
  PathView v;
  auto doc = parse_json(http_get(srv.http_url("/api/v1/paths")).body);
  if (!doc || !JSON_NODE_HOLDS_OBJECT(doc.get()))
    return v;
  JsonObject* p = json_find(json_object_get_array_member(json_node_get_object(doc.get()), "paths"),
                            "name", name);
  if (!p)
    return v;
  v.found = true;
  v.state = json_string(p, "state");
  JsonObject* r = json_object_has_member(p, "readers") ? json_object_get_object_member(p, "readers")
                                                       : nullptr;
  v.readers_tcp = int_member(r, "tcp");
  v.readers_udp = int_member(r, "udp");
  v.bytes_in = int_member(p, "bytes_in");
  v.bytes_out = int_member(p, "bytes_out");
  v.frames = int_member(p, "frames");
  v.key_frames = int_member(p, "key_frames");
  v.gaps = int_member(p, "gaps");
  v.reconnects = int_member(p, "reconnects");
  v.publishers = int_member(p, "publishers");
  v.bitrate = json_object_has_member(p, "bitrate_bps") ? json_object_get_double_member(p, "bitrate_bps") : -1;
  v.last_activity = json_string(p, "last_activity");
  return v;
}

std::string describe(const PathView& v, const CountingClient& c) {
  return "api: state=" + v.state + " tcp=" + std::to_string(v.readers_tcp) +
         " bytes_in=" + std::to_string(v.bytes_in) + " bytes_out=" + std::to_string(v.bytes_out) +
         " frames=" + std::to_string(v.frames) + " key_frames=" + std::to_string(v.key_frames) +
         " gaps=" + std::to_string(v.gaps) + "; client: bytes=" + std::to_string(c.bytes()) +
         " packets=" + std::to_string(c.packets()) + " frames=" + std::to_string(c.frames());
}

bool within(double a, double b, double fraction) { return std::fabs(a - b) <= fraction * std::max(a, b); }

TEST(PathStats, FiguresMatchWhatTheClientReceived) {
  std::string conf = write_temp_file("stats.conf", "[server]\nverbose=1\n[path /cam]\nlaunch=" + kLine + "\n");
  ServerProcess srv({conf}, true, 0, {}, true);
  ASSERT_TRUE(srv.ready()) << srv.log_tail();

  PathView idle = path_view(srv, "/cam");
  ASSERT_TRUE(idle.found);
  EXPECT_EQ(idle.state, "idle");
  EXPECT_EQ(idle.readers_tcp, 0);
  EXPECT_EQ(idle.bytes_out, 0);

  CountingClient client(srv.url("/cam"));
  // While it plays: one reader, over TCP, and the source's figures move.
  PathView playing;
  ASSERT_TRUE(wait_until(
      [&] {
        playing = path_view(srv, "/cam");
        return playing.readers_tcp == 1 && client.frames() > 25 && playing.bitrate > 0;
      },
      20s))
      << describe(playing, client) << "\n" << srv.log_tail();
  EXPECT_EQ(playing.state, "ready");
  EXPECT_EQ(playing.readers_udp, 0);
  EXPECT_FALSE(playing.last_activity.empty());

  // Both sides move while it plays: the client's counts are read just
  // before and just after the server's, which must lie between them
  // (within 2 %).
  ASSERT_TRUE(wait_until([&] { return client.frames() >= kFrames; }, 30s)) << describe(playing, client);
  const uint64_t bytes_before = client.bytes(), frames_before = client.frames();
  PathView done = path_view(srv, "/cam");
  auto metrics = http_get(srv.http_url("/metrics"));
  const uint64_t bytes_after = client.bytes(), frames_after = client.frames();
  const std::string seen = describe(done, client) + " (client before: " + std::to_string(bytes_before) +
                           " bytes, " + std::to_string(frames_before) + " frames)";
  std::printf("%s\n", seen.c_str());
  auto between = [](double v, uint64_t lo, uint64_t hi) { return v >= 0.98 * double(lo) && v <= 1.02 * double(hi); };
  EXPECT_EQ(done.readers_tcp, 1) << seen;
  EXPECT_TRUE(between(double(done.bytes_out), bytes_before, bytes_after)) << seen;
  EXPECT_TRUE(between(double(done.frames), frames_before, frames_after)) << seen;
  EXPECT_GE(done.key_frames, 1) << seen;
  EXPECT_LE(done.key_frames, done.frames) << seen;
  EXPECT_EQ(done.gaps, 0) << seen;
  EXPECT_EQ(done.reconnects, 0) << seen;
  // What came in went out to the one reader (it got the line from its start).
  EXPECT_TRUE(within(double(done.bytes_in), double(done.bytes_out), 0.02)) << seen;

  // /metrics says the same, in valid text format.
  ASSERT_EQ(metrics.status, 200u);
  PromText prom = parse_prom_text(metrics.body);
  EXPECT_TRUE(prom.errors.empty()) << testing::PrintToString(prom.errors) << "\n" << metrics.body;
  const std::map<std::string, std::string> cam = {{"path", "/cam"}};
  EXPECT_TRUE(between(prom.value("gms_path_sent_bytes_total", cam), bytes_before, bytes_after))
      << seen << "\n" << metrics.body;
  EXPECT_TRUE(between(prom.value("gms_path_frames_total", cam), frames_before, frames_after))
      << seen << "\n" << metrics.body;
  EXPECT_EQ(prom.value("gms_path_readers", {{"path", "/cam"}, {"transport", "tcp"}}), 1);
  EXPECT_EQ(prom.value("gms_path_up", cam), 1);
  EXPECT_EQ(prom.value("gms_connections"), 1);

  // A second reader over UDP joins and leaves; the first stays.
  {
    CountingClient udp(srv.url("/cam"), 1);
    PathView two;
    ASSERT_TRUE(wait_until(
        [&] {
          two = path_view(srv, "/cam");
          return two.readers_udp == 1 && udp.packets() > 0;
        },
        20s))
        << describe(two, udp);
    EXPECT_EQ(two.readers_tcp, 1);
    EXPECT_EQ(http_get(srv.http_url("/metrics")).body.find("gms_path_readers{path=\"/cam\",transport=\"udp\"} 1\n") !=
                  std::string::npos,
              true);
  }  // its TEARDOWN ends its session at once
  PathView one;
  ASSERT_TRUE(wait_until(
      [&] {
        one = path_view(srv, "/cam");
        return one.readers_udp == 0;
      },
      15s))
      << describe(one, client);
  EXPECT_EQ(one.readers_tcp, 1);

  client.stop();
  PathView left;
  ASSERT_TRUE(wait_until(
      [&] {
        left = path_view(srv, "/cam");
        return left.readers_tcp == 0;
      },
      15s))
      << describe(left, client);
  // What it was sent stays counted.
  EXPECT_GE(left.bytes_out, done.bytes_out);
  EXPECT_EQ(left.readers_udp, 0);
}

// A published path: its publisher counts, its tracks' msstats count what
// the publisher sends, and the state follows the publisher.
TEST(PathStats, PublishedPathCountsItsPublisherAndItsTracks) {
  std::string conf = write_temp_file("pub.conf", "[server]\nverbose=1\n[path /pub]\npublish=true\n");
  ServerProcess srv({conf}, true, 0, {}, true);
  ASSERT_TRUE(srv.ready()) << srv.log_tail();
  PathView before = path_view(srv, "/pub");
  ASSERT_TRUE(before.found);
  EXPECT_EQ(before.state, "idle");
  EXPECT_EQ(before.publishers, 0);
  PathView on;
  {
    Child pub(ffmpeg_publisher(srv.url("/pub"), "tcp", 6, true, "160x120"));
    ASSERT_TRUE(wait_published(srv, "/pub")) << srv.log_tail();
    ASSERT_TRUE(wait_until(
        [&] {
          on = path_view(srv, "/pub");
          return on.state == "ready" && on.frames > 25 && on.bitrate > 0;
        },
        20s))
        << "state=" << on.state << " frames=" << on.frames << " bitrate=" << on.bitrate << "\n"
        << srv.log_tail();
    EXPECT_EQ(on.publishers, 1);
    EXPECT_GT(on.bytes_in, 0);
    EXPECT_GE(on.key_frames, 1);
    EXPECT_FALSE(on.last_activity.empty());
    EXPECT_EQ(on.readers_tcp, 0);
    EXPECT_EQ(pub.wait(30000), 0) << pub.output();
  }
  PathView gone;
  ASSERT_TRUE(wait_until(
      [&] {
        gone = path_view(srv, "/pub");
        return gone.publishers == 0 && gone.state == "idle";
      },
      20s))
      << "state=" << gone.state << " publishers=" << gone.publishers;
  EXPECT_GE(gone.bytes_in, on.bytes_in) << "what it sent stays counted";
}

}  // namespace
}  // namespace gms::test
