// Sessions and run-time paths over the HTTP API, with real clients: the
// session list while rtspsrc viewers (UDP, TCP, HTTP tunnel) and a
// publisher are on,
// its byte and packet counts against what the viewers received (TCP viewers
// of a launch line, a relayed publisher and a file too), DELETE of one session,
// paths added, changed and removed while others play, api-writes-config
// across a restart, SIGHUP beside API changes, and the session log lines
// (text and JSON).
#include <glib/gstdio.h>
#include <gtest/gtest.h>

#include <gst/rtp/gstrtpbuffer.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "child.h"
#include "http_client.h"
#include "media_fixtures.h"
#include "pipelines.h"
#include "process.h"
#include "viewer.h"

namespace gms::test {
namespace {

// rtspsrc feeding fakesinks; counts the RTP packets and bytes that reach
// its RTP sessions (all it received, before duplicates are dropped: a late
// joiner's cached key frame overlaps the live packets; and before packets
// older than RTP-Info's are).
class RtpCounter {
 public:
  RtpCounter(const std::string& url, const std::string& protocols) {
    pipeline_ = Ref<GstElement>::adopt(gst_pipeline_new(nullptr));
    g_signal_connect(pipeline_.get(), "deep-element-added", G_CALLBACK(on_element), this);
    GstElement* src = gst_element_factory_make("rtspsrc", nullptr);
    gst_util_set_object_arg(G_OBJECT(src), "protocols", protocols.c_str());
    g_object_set(src, "location", url.c_str(), "latency", 0u, nullptr);
    g_signal_connect(src, "pad-added", G_CALLBACK(on_pad_added), nullptr);
    gst_bin_add(GST_BIN(pipeline_.get()), src);
    gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING);
  }
  ~RtpCounter() { gst_element_set_state(pipeline_.get(), GST_STATE_NULL); }
  RtpCounter(const RtpCounter&) = delete;
  RtpCounter& operator=(const RtpCounter&) = delete;

  uint64_t bytes() const { return bytes_; }
  uint64_t packets() const { return packets_; }
  // Packets whose sequence number was not ahead of every one before it on
  // their stream: repeated or late.
  uint64_t stale() const { return stale_; }
  // An error or EOS on the bus since the start.
  bool ended() {
    auto bus = Ref<GstBus>::adopt(gst_element_get_bus(pipeline_.get()));
    GstMessage* m = gst_bus_pop_filtered(bus.get(), GstMessageType(GST_MESSAGE_ERROR | GST_MESSAGE_EOS));
    if (m) {
      ended_ = true;
      gst_message_unref(m);
    }
    return ended_;
  }

 private:
  static void on_element(GstBin*, GstBin*, GstElement* e, gpointer self) noexcept {
    GstElementFactory* f = gst_element_get_factory(e);
    if (f && g_strcmp0(GST_OBJECT_NAME(f), "rtpsession") == 0)
      g_signal_connect(e, "pad-added", G_CALLBACK(on_session_pad), self);
  }
  static void on_session_pad(GstElement*, GstPad* pad, gpointer self) noexcept {
    if (g_strcmp0(GST_PAD_NAME(pad), "recv_rtp_sink") == 0)
      gst_pad_add_probe(pad, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                        on_data, self, nullptr);
  }
  static void on_pad_added(GstElement* src, GstPad* pad, gpointer) noexcept {
    GstElement* sink = gst_element_factory_make("fakesink", nullptr);
    g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
    auto* bin = GST_BIN(gst_element_get_parent(src));
    gst_bin_add(bin, sink);
    gst_object_unref(bin);
    gst_element_sync_state_with_parent(sink);
    auto sinkpad = Ref<GstPad>::adopt(gst_element_get_static_pad(sink, "sink"));
    gst_pad_link(pad, sinkpad.get());
  }
  static GstPadProbeReturn on_data(GstPad* pad, GstPadProbeInfo* info, gpointer self) noexcept {
    auto* c = static_cast<RtpCounter*>(self);
    if (GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info)) {
      c->count(pad, b);
    } else if (GstBufferList* l = GST_PAD_PROBE_INFO_BUFFER_LIST(info)) {
      for (guint i = 0; i < gst_buffer_list_length(l); ++i)
        c->count(pad, gst_buffer_list_get(l, i));
    }
    return GST_PAD_PROBE_OK;
  }
  // On the one streaming thread of `pad`'s session.
  void count(GstPad* pad, GstBuffer* b) {
    bytes_ += gst_buffer_get_size(b);
    packets_ += 1;
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map(b, GST_MAP_READ, &rtp))
      return;
    const guint16 seq = gst_rtp_buffer_get_seq(&rtp);
    gst_rtp_buffer_unmap(&rtp);
    std::lock_guard<std::mutex> g(mutex_);
    auto [at, first] = highest_.try_emplace(pad, seq);
    if (first)
      return;
    if (gint16(guint16(seq - at->second)) <= 0)
      stale_ += 1;
    else
      at->second = seq;
  }

  Ref<GstElement> pipeline_;
  std::atomic<uint64_t> bytes_{0}, packets_{0}, stale_{0};
  std::mutex mutex_;
  std::map<GstPad*, guint16> highest_;  // under mutex_
  bool ended_ = false;
};

struct JsonGet {
  HttpReply reply;
  JsonNodePtr doc;
  JsonObject* object() const {
    return doc && JSON_NODE_HOLDS_OBJECT(doc.get()) ? json_node_get_object(doc.get()) : nullptr;
  }
};
JsonGet json_request(const std::string& method, const std::string& url, const std::string* body = nullptr) {
  JsonGet g;
  g.reply = body ? http_request(method, url, *body) : http_request(method, url);
  g.doc = parse_json(g.reply.body);
  return g;
}

JsonArray* sessions_of(const JsonGet& g) {
  JsonObject* o = g.object();
  return o && json_object_has_member(o, "sessions") ? json_object_get_array_member(o, "sessions")
                                                     : nullptr;
}

// The "error" object's key and reason of a 4xx answer.
std::pair<std::string, std::string> key_error(const JsonGet& g) {
  JsonObject* o = g.object();
  if (!o || !json_object_has_member(o, "error"))
    return {"<none>", "<none>"};
  JsonNode* n = json_object_get_member(o, "error");
  if (!JSON_NODE_HOLDS_OBJECT(n))
    return {"<not an object>", ""};
  JsonObject* e = json_node_get_object(n);
  std::string key = json_object_get_null_member(e, "key") ? "" : json_string(e, "key");
  return {key, json_string(e, "reason")};
}

gint64 int_member(JsonObject* o, const char* name) {
  return o && json_object_has_member(o, name) && !json_object_get_null_member(o, name)
             ? json_object_get_int_member(o, name)
             : -1;
}

// ffprobe's codec name and width of the first stream, "" when it cannot play.
std::string probe(const std::string& url) {
  RunResult r = run({"ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-select_streams", "v:0",
                     "-show_entries", "stream=codec_name,width", "-of", "csv=p=0", url},
                    30s);
  std::string out = r.out;
  while (!out.empty() && (out.back() == '\n' || out.back() == ','))
    out.pop_back();
  return r.exit_status == 0 ? out : "";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `server` (a figure of the list read between `before` and `after` from
// the client's counter) within 2 % of what the client had.
void expect_within_2_percent(const std::string& what, gint64 server, uint64_t before,
                             uint64_t after, const std::string& body) {
  printf("%s: server counted %lld; the client had %llu..%llu\n", what.c_str(),
         static_cast<long long>(server), static_cast<unsigned long long>(before),
         static_cast<unsigned long long>(after));
  EXPECT_GE(double(server), 0.98 * double(before)) << what << " " << body;
  EXPECT_LE(double(server), 1.02 * double(after)) << what << " " << body;
}

ServerProcess* start(const std::string& conf, std::vector<std::string> extra = {}) {
  extra.push_back(conf);
  return new ServerProcess(extra, true, 0, {}, true);
}

// ---------------------------------------------------------------------------

TEST(SessionsApi, ViewersAndPublisherListedWithTheirBytes) {
  std::string conf = write_temp_file(
      "s.conf", std::string("[path /cam]\nlaunch=") + kH264Opus + "\n[path /live/*]\npublish=true\n");
  std::unique_ptr<ServerProcess> srv(start(conf));
  ASSERT_TRUE(srv->ready()) << srv->log();
  RtpCounter udp(srv->url("/cam"), "udp");
  RtpCounter tcp(srv->url("/cam"), "tcp");
  std::string tunnel_url = srv->url("/cam");
  tunnel_url.replace(0, 4, "rtsph");  // RTSP and RTP over an HTTP tunnel
  RtpCounter tunnel(tunnel_url, "tcp");
  Child pub({"gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "!",
             "video/x-raw,width=160,height=120,framerate=30/1", "!", "x264enc", "tune=zerolatency",
             "speed-preset=ultrafast", "key-int-max=30", "!", "rtspclientsink",
             "location=" + srv->url("/live/pub"), "protocols=tcp"});
  JsonGet list;
  auto find_role = [&](const char* role, const char* transport) -> JsonObject* {
    JsonArray* all = sessions_of(list);
    for (guint i = 0; all && i < json_array_get_length(all); ++i) {
      JsonObject* s = json_array_get_object_element(all, i);
      if (json_string(s, "role") == role && (!transport || json_string(s, "transport") == transport))
        return s;
    }
    return nullptr;
  };
  ASSERT_TRUE(wait_until(
      [&] {
        list = json_request("GET", srv->http_url("/api/v1/sessions"));
        JsonObject* p = find_role("publisher", "tcp");
        // (About 5 s of stream: the client's reading and the server's
        // TCP counters are a moment apart, which must stay small beside it.)
        return udp.packets() > 1500 && tcp.packets() > 1500 && tunnel.packets() > 1500 &&
               find_role("viewer", "udp") && find_role("viewer", "tcp") &&
               find_role("viewer", "http-tunnel") && p && int_member(p, "packets_received") > 100;
      },
      30s))
      << list.reply.body << srv->log_tail() << pub.output();

  JsonObject* v = find_role("viewer", "udp");
  EXPECT_EQ(json_string(v, "path"), "/cam");
  EXPECT_EQ(json_string(v, "remote").rfind("127.0.0.1:", 0), 0u) << json_string(v, "remote");
  EXPECT_TRUE(json_object_get_null_member(v, "user"));
  EXPECT_EQ(json_string(v, "started").back(), 'Z');
  EXPECT_EQ(json_string(v, "id").size(), 32u);
  JsonObject* p = find_role("publisher", "tcp");
  EXPECT_EQ(json_string(p, "path"), "/live/pub");
  EXPECT_GT(int_member(p, "bytes_received"), 1000);

  // What each viewer received, read before and after the list: the
  // server's count lies between them (within 2 %).
  for (auto [counter, transport] :
       {std::pair{&udp, "udp"}, std::pair{&tcp, "tcp"}, std::pair{&tunnel, "http-tunnel"}}) {
    const uint64_t bytes_before = counter->bytes(), packets_before = counter->packets();
    list = json_request("GET", srv->http_url("/api/v1/sessions"));
    const uint64_t bytes_after = counter->bytes(), packets_after = counter->packets();
    JsonObject* s = find_role("viewer", transport);
    ASSERT_TRUE(s) << list.reply.body;
    expect_within_2_percent(std::string(transport) + " viewer, bytes", int_member(s, "bytes_sent"),
                            bytes_before, bytes_after, list.reply.body);
    // A UDP viewer's packets lost on the way are counted by the sink, not
    // by the client: at least what it received.
    if (std::string(transport) == "udp")
      EXPECT_GE(int_member(s, "packets_sent"), int64_t(packets_before * 0.98)) << list.reply.body;
    else {
      // A viewer joining the running media over TCP gets its cached key
      // frame, then the stream's packets from where the key frame ends
      // (it used to get 14 to 78 packets twice or late under load, which
      // the count missed). Left: the list the stream's appsink may still
      // hold as the viewer is added, a packet or two (tcp_join_gate.h).
      EXPECT_LE(counter->stale(), 2u) << transport << " viewer";
      expect_within_2_percent(std::string(transport) + " viewer, packets",
                              int_member(s, "packets_sent"), packets_before, packets_after,
                              list.reply.body);
    }
  }

  // The UDP viewer's receiver reports give its loss.
  EXPECT_TRUE(wait_until(
      [&] {
        list = json_request("GET", srv->http_url("/api/v1/sessions"));
        JsonObject* s = find_role("viewer", "udp");
        return s && !json_object_get_null_member(s, "loss");
      },
      20s))
      << list.reply.body;

  // The path with its readers; a publisher's path too; 404 as JSON.
  JsonGet cam = json_request("GET", srv->http_url("/api/v1/paths/cam"));
  ASSERT_EQ(cam.reply.status, 200u) << cam.reply.body;
  EXPECT_EQ(json_string(cam.object(), "kind"), "launch");
  EXPECT_EQ(json_array_get_length(json_object_get_array_member(cam.object(), "readers")), 3u);
  JsonGet live = json_request("GET", srv->http_url("/api/v1/paths/live/pub"));
  ASSERT_EQ(live.reply.status, 200u) << live.reply.body;
  JsonArray* readers = json_object_get_array_member(live.object(), "readers");
  ASSERT_EQ(json_array_get_length(readers), 1u);
  EXPECT_EQ(json_string(json_array_get_object_element(readers, 0), "role"), "publisher");
  JsonGet none = json_request("GET", srv->http_url("/api/v1/paths/nope"));
  EXPECT_EQ(none.reply.status, 404u);
  EXPECT_FALSE(json_string(none.object(), "error").empty()) << none.reply.body;

  // One line per session start, at default verbosity.
  EXPECT_EQ(count_occurrences(srv->log(), "NOTICE session started"), 4u) << srv->log_tail();
}

// TCP viewers of a relayed publisher (a late joiner: the cached key frame
// first, then the live packets) and of a media file (a media of its own).
TEST(SessionsApi, TcpViewersOfRelayAndFileCounted) {
  const std::string dir = make_media_dir({"h264_aac.mp4"});
  std::string conf = write_temp_file(
      "s.conf", "[path /live/*]\npublish=true\n[path /vod]\nroot=" + dir + "\n");
  std::unique_ptr<ServerProcess> srv(start(conf));
  ASSERT_TRUE(srv->ready()) << srv->log();
  Child pub({"gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "!",
             "video/x-raw,width=160,height=120,framerate=30/1", "!", "x264enc", "tune=zerolatency",
             "speed-preset=ultrafast", "key-int-max=30", "!", "rtspclientsink",
             "location=" + srv->url("/live/pub"), "protocols=tcp"});
  JsonGet list;
  auto find = [&](const char* role, const char* path) -> JsonObject* {
    JsonArray* all = sessions_of(list);
    for (guint i = 0; all && i < json_array_get_length(all); ++i) {
      JsonObject* s = json_array_get_object_element(all, i);
      if (json_string(s, "role") == role && json_string(s, "path") == path)
        return s;
    }
    return nullptr;
  };
  // Joins once the publisher has sent a second or so: past a key frame.
  ASSERT_TRUE(wait_until(
      [&] {
        list = json_request("GET", srv->http_url("/api/v1/sessions"));
        return int_member(find("publisher", "/live/pub"), "packets_received") > 60;
      },
      30s))
      << list.reply.body << srv->log_tail() << pub.output();
  RtpCounter relay(srv->url("/live/pub"), "tcp");
  RtpCounter file(srv->url("/vod/h264_aac.mp4"), "tcp");
  ASSERT_TRUE(wait_until(
      [&] {
        list = json_request("GET", srv->http_url("/api/v1/sessions"));
        return relay.packets() > 300 && find("viewer", "/live/pub");
      },
      30s))
      << list.reply.body << srv->log_tail();
  {
    const uint64_t bytes_before = relay.bytes(), packets_before = relay.packets();
    list = json_request("GET", srv->http_url("/api/v1/sessions"));
    const uint64_t bytes_after = relay.bytes(), packets_after = relay.packets();
    JsonObject* s = find("viewer", "/live/pub");
    ASSERT_TRUE(s) << list.reply.body;
    EXPECT_EQ(json_string(s, "transport"), "tcp");
    expect_within_2_percent("relay viewer, bytes", int_member(s, "bytes_sent"), bytes_before,
                            bytes_after, list.reply.body);
    expect_within_2_percent("relay viewer, packets", int_member(s, "packets_sent"),
                            packets_before, packets_after, list.reply.body);
  }
  // A file goes out in lists of 100 ms per track, so while it plays the
  // server is a list or two ahead of the client (7 of 150 packets here):
  // compared once the whole file was sent (its BYE ends the client's
  // stream). Packets only: the 5 s clip is 70 kB, and its connection's
  // RTSP replies and RTCP add 4 % to the bytes.
  ASSERT_TRUE(wait_until([&] { return file.ended(); }, 30s)) << srv->log_tail();
  list = json_request("GET", srv->http_url("/api/v1/sessions"));
  JsonObject* s = find("viewer", "/vod/h264_aac.mp4");
  ASSERT_TRUE(s) << list.reply.body;
  EXPECT_EQ(json_string(s, "transport"), "tcp");
  expect_within_2_percent("file viewer, packets", int_member(s, "packets_sent"), file.packets(),
                          file.packets(), list.reply.body);
  EXPECT_GT(file.packets(), 200u);
}

TEST(SessionsApi, DeleteEndsOneViewerAndTheOtherPlaysOn) {
  std::string conf = write_temp_file("s.conf", std::string("[path /cam]\nlaunch=") + kMjpeg + "\n");
  std::unique_ptr<ServerProcess> srv(start(conf, {"-v"}));
  ASSERT_TRUE(srv->ready()) << srv->log();
  auto first = std::make_unique<RtpCounter>(srv->url("/cam"), "tcp");
  std::string id;
  JsonGet list;
  ASSERT_TRUE(wait_until(
      [&] {
        list = json_request("GET", srv->http_url("/api/v1/sessions"));
        JsonArray* all = sessions_of(list);
        if (!all || json_array_get_length(all) != 1 || first->packets() < 10)
          return false;
        id = json_string(json_array_get_object_element(all, 0), "id");
        return true;
      },
      20s))
      << list.reply.body << first->packets() << srv->log_tail();
  Viewer other(srv->url("/cam"), "udp");
  ASSERT_TRUE(wait_until([&] { return other.video_frames() >= 10; }, 20s)) << other.state();

  HttpReply del = http_request("DELETE", srv->http_url("/api/v1/sessions/" + id));
  EXPECT_EQ(del.status, 204u) << del.body;
  EXPECT_TRUE(wait_until([&] { return first->ended(); }, 10s)) << "the deleted viewer kept going";
  const unsigned frames = other.video_frames();
  EXPECT_TRUE(wait_until([&] { return other.video_frames() >= frames + 15; }, 10s))
      << other.state();
  EXPECT_TRUE(other.error().empty()) << other.error();
  EXPECT_FALSE(other.got_eos());
  JsonGet after = json_request("GET", srv->http_url("/api/v1/sessions"));
  JsonArray* left = sessions_of(after);
  ASSERT_TRUE(left);
  EXPECT_EQ(json_array_get_length(left), 1u) << after.reply.body << srv->log_tail(60);
  EXPECT_TRUE(wait_until([&] { return srv->log_contains("NOTICE session ended id=" + id); }, 5s))
      << srv->log_tail();

  EXPECT_EQ(http_request("DELETE", srv->http_url("/api/v1/sessions/" + id)).status, 404u);
  HttpReply wrong = http_request("GET", srv->http_url("/api/v1/sessions/" + id));
  EXPECT_EQ(wrong.status, 405u);
  EXPECT_EQ(wrong.allow, "DELETE");
  HttpReply post = http_request("POST", srv->http_url("/api/v1/sessions"), "{}");
  EXPECT_EQ(post.status, 405u);
  EXPECT_EQ(post.allow, "GET");
}

// A publisher's session ended over the API: the publisher is told (its
// connection closes) and its viewers get their end as when it leaves.
TEST(SessionsApi, DeletedPublisherEndsItsViewers) {
  std::string conf = write_temp_file("s.conf", "[path /live/*]\npublish=true\n");
  std::unique_ptr<ServerProcess> srv(start(conf));
  ASSERT_TRUE(srv->ready()) << srv->log();
  Child pub({"gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "!",
             "video/x-raw,width=160,height=120,framerate=30/1", "!", "x264enc", "tune=zerolatency",
             "speed-preset=ultrafast", "key-int-max=30", "!", "rtspclientsink",
             "location=" + srv->url("/live/p"), "protocols=tcp"});
  std::unique_ptr<Viewer> viewer;
  ASSERT_TRUE(wait_until(
      [&] {
        if (!viewer || !viewer->error().empty())
          viewer = std::make_unique<Viewer>(srv->url("/live/p"), "tcp");
        return viewer->video_frames() >= 10;
      },
      30s))
      << srv->log_tail() << pub.output();
  std::string id;
  JsonGet list = json_request("GET", srv->http_url("/api/v1/sessions"));
  JsonArray* all = sessions_of(list);
  for (guint i = 0; all && i < json_array_get_length(all); ++i) {
    JsonObject* s = json_array_get_object_element(all, i);
    if (json_string(s, "role") == "publisher")
      id = json_string(s, "id");
  }
  ASSERT_FALSE(id.empty()) << list.reply.body;
  EXPECT_EQ(http_request("DELETE", srv->http_url("/api/v1/sessions/" + id)).status, 204u);
  EXPECT_TRUE(wait_until([&] { return viewer->got_eos() || !viewer->error().empty(); }, 15s))
      << viewer->state() << srv->log_tail();
  EXPECT_TRUE(wait_until([&] { return !pub.running(); }, 15s)) << pub.output();
  EXPECT_TRUE(srv->alive());
}

TEST(SessionsApi, PathsAddedChangedAndRemovedWhileOthersPlay) {
  std::string conf = write_temp_file("s.conf", std::string("[path /cam]\nlaunch=") + kMjpeg + "\n");
  std::unique_ptr<ServerProcess> srv(start(conf));
  ASSERT_TRUE(srv->ready()) << srv->log();
  Viewer watcher(srv->url("/cam"), "tcp");
  ASSERT_TRUE(wait_until([&] { return watcher.video_frames() >= 5; }, 20s)) << watcher.state();
  const std::string paths = srv->http_url("/api/v1/paths");

  // A launch path and a proxy path, then played.
  std::string launch = std::string(R"({"name": "/added", "launch": ")") + kMjpeg + R"(", "max-viewers": 5})";
  JsonGet added = json_request("POST", paths, &launch);
  ASSERT_EQ(added.reply.status, 201u) << added.reply.body;
  EXPECT_EQ(json_string(added.object(), "name"), "/added");
  EXPECT_EQ(json_string(added.object(), "kind"), "launch");
  std::string proxy = R"({"name": "/relay", "proxy": ")" + srv->url("/cam") + R"(", "backend-transport": "tcp"})";
  JsonGet relay = json_request("POST", paths, &proxy);
  ASSERT_EQ(relay.reply.status, 201u) << relay.reply.body;
  EXPECT_EQ(json_string(relay.object(), "kind"), "proxy");
  EXPECT_EQ(probe(srv->url("/added")), "mjpeg,160");
  EXPECT_EQ(probe(srv->url("/relay")), "mjpeg,160");

  // Errors as the configuration reader words them.
  struct Bad {
    std::string body;
    unsigned status;
    std::string key;
  } bad[] = {
      {launch, 409, "name"},
      {R"({"name": "/x", "launch": "videotestsrc ! fakesink"})", 400, "launch"},
      {R"({"name": "/x", "proxy": "http://127.0.0.1/a"})", 400, "proxy"},
      {R"({"name": "/x", "launch": "videotestsrc", "lunch": "x"})", 400, "lunch"},
      {R"({"name": "/x", "proxy": "rtsp://127.0.0.1/a", "linger": "soon"})", 400, "linger"},
      {std::string(R"({"name": "/x", "record": true, "launch": ")") + kMjpeg + "\"}", 400, "record"},
      {R"({"name": "/x"})", 400, ""},
      {R"({"name": "x y", "publish": true})", 400, "name"},
      {R"({"launch": "videotestsrc"})", 400, "name"},
      {R"({"name": "/x", "launch": ["a"]})", 400, "launch"},
      {R"({"name": "/x", )", 400, ""},
      {R"([1, 2])", 400, ""},
  };
  for (const auto& b : bad) {
    JsonGet r = json_request("POST", paths, &b.body);
    EXPECT_EQ(r.reply.status, b.status) << b.body << ": " << r.reply.body;
    auto [key, reason] = key_error(r);
    EXPECT_EQ(key, b.key) << b.body << ": " << r.reply.body;
    EXPECT_FALSE(reason.empty()) << r.reply.body;
  }
  JsonGet notjson = json_request("POST", paths, &bad[10].body);
  EXPECT_NE(key_error(notjson).second.find("not JSON"), std::string::npos) << notjson.reply.body;
  HttpReply put = http_request("PUT", paths, "{}");
  EXPECT_EQ(put.status, 405u);
  EXPECT_EQ(put.allow, "GET, POST");
  HttpReply post_one = http_request("POST", paths + "/added", "{}");
  EXPECT_EQ(post_one.status, 405u);
  EXPECT_EQ(post_one.allow, "GET, PATCH, DELETE");

  // PATCH: the keys given replace the path's.
  std::string smaller = R"({"launch": "videotestsrc is-live=true ! video/x-raw,format=I420,width=176,height=144,framerate=15/1 ! jpegenc ! rtpjpegpay name=pay0 pt=26"})";
  JsonGet patched = json_request("PATCH", paths + "/added", &smaller);
  ASSERT_EQ(patched.reply.status, 200u) << patched.reply.body;
  EXPECT_EQ(probe(srv->url("/added")), "mjpeg,176");
  std::string bogus = R"({"bogus": 1})";
  JsonGet bad_patch = json_request("PATCH", paths + "/added", &bogus);
  EXPECT_EQ(bad_patch.reply.status, 400u);
  EXPECT_EQ(key_error(bad_patch).first, "bogus");
  EXPECT_EQ(json_request("PATCH", paths + "/nope", &bogus).reply.status, 404u);

  // DELETE: gone, and again 404.
  EXPECT_EQ(http_request("DELETE", paths + "/added").status, 204u);
  EXPECT_EQ(http_request("GET", paths + "/added").status, 404u);
  EXPECT_EQ(http_request("DELETE", paths + "/added").status, 404u);
  EXPECT_EQ(probe(srv->url("/added")), "");

  // The viewer of the untouched path played through all of it.
  const unsigned frames = watcher.video_frames();
  EXPECT_TRUE(wait_until([&] { return watcher.video_frames() >= frames + 10; }, 10s)) << watcher.state();
  EXPECT_TRUE(watcher.error().empty()) << watcher.error();
  EXPECT_FALSE(watcher.got_eos());
}

TEST(SessionsApi, ApiWritesConfigSurvivesRestartAndReload) {
  std::string conf = write_temp_file(
      "s.conf", std::string("# site comment\n[server]\napi-writes-config=true\n\n"
                            "# the camera\n[path /cam]\nlaunch=") +
                    kMjpeg + "\n");
  std::unique_ptr<ServerProcess> srv(start(conf));
  ASSERT_TRUE(srv->ready()) << srv->log();
  std::string body = std::string(R"({"name": "/kept", "launch": ")") + kMjpeg + "\"}";
  ASSERT_EQ(http_request("POST", srv->http_url("/api/v1/paths"), body).status, 201u);
  std::string text = read_file(conf);
  EXPECT_NE(text.find("[path /kept]"), std::string::npos) << text;
  EXPECT_NE(text.find("# site comment"), std::string::npos) << text;
  EXPECT_NE(text.find("# the camera"), std::string::npos) << text;

  // SIGHUP reads the file, which has it.
  srv->signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return srv->log_contains("configuration reloaded"); }, 10s))
      << srv->log_tail();
  EXPECT_EQ(http_get(srv->http_url("/api/v1/paths/kept")).status, 200u);

  // A restart serves it from the file.
  EXPECT_EQ(srv->stop(), 0);
  srv.reset(start(conf));
  ASSERT_TRUE(srv->ready()) << srv->log();
  EXPECT_EQ(http_get(srv->http_url("/api/v1/paths/kept")).status, 200u);
  EXPECT_EQ(probe(srv->url("/kept")), "mjpeg,160");

  EXPECT_EQ(http_request("DELETE", srv->http_url("/api/v1/paths/kept")).status, 204u);
  EXPECT_EQ(read_file(conf).find("[path /kept]"), std::string::npos) << read_file(conf);
  EXPECT_NE(read_file(conf).find("# the camera"), std::string::npos);
}

TEST(SessionsApi, ReloadAndApiKeepEachOthersWork) {
  const std::string cam = std::string("[path /cam]\nlaunch=") + kMjpeg + "\n";
  std::string conf = write_temp_file("s.conf", cam);
  std::unique_ptr<ServerProcess> srv(start(conf));
  ASSERT_TRUE(srv->ready()) << srv->log();
  std::string body = std::string(R"({"name": "/api", "launch": ")") + kMjpeg + "\"}";
  ASSERT_EQ(http_request("POST", srv->http_url("/api/v1/paths"), body).status, 201u);
  ASSERT_EQ(http_request("DELETE", srv->http_url("/api/v1/paths/cam")).status, 204u);
  // Kept in memory: the file is not written.
  EXPECT_EQ(read_file(conf).find("/api"), std::string::npos);

  // The file gains a path; a reload adds it and keeps the API's changes.
  ASSERT_TRUE(g_file_set_contents(conf.c_str(),
                                  (cam + "[path /file]\nlaunch=" + kMjpeg + "\n").c_str(), -1,
                                  nullptr));
  srv->signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return http_get(srv->http_url("/api/v1/paths/file")).status == 200; },
                         10s))
      << srv->log_tail();
  EXPECT_EQ(http_get(srv->http_url("/api/v1/paths/api")).status, 200u);
  EXPECT_EQ(http_get(srv->http_url("/api/v1/paths/cam")).status, 404u) << "the API removed it";
  EXPECT_EQ(probe(srv->url("/api")), "mjpeg,160");
}

TEST(SessionsApi, JsonLogLinesParse) {
  std::string conf = write_temp_file("s.conf", std::string("[path /cam]\nlaunch=") + kMjpeg + "\n");
  std::unique_ptr<ServerProcess> srv(start(conf, {"--log-format=json", "-v"}));
  ASSERT_TRUE(srv->ready()) << srv->log();
  {
    Viewer v(srv->url("/cam"), "tcp");
    ASSERT_TRUE(wait_until([&] { return v.video_frames() >= 10; }, 20s)) << v.state();
  }
  ASSERT_TRUE(wait_until([&] { return srv->log_contains("\"session ended\""); }, 15s))
      << srv->log_tail();
  // stderr: what follows the banner on stdout ("ready").
  const std::string all = srv->log();
  const auto ready = all.find("\nready\n");
  ASSERT_NE(ready, std::string::npos);
  std::istringstream lines(all.substr(ready + 7));
  unsigned parsed = 0, started = 0, ended = 0;
  for (std::string line; std::getline(lines, line);) {
    auto doc = parse_json(line);
    ASSERT_TRUE(doc && JSON_NODE_HOLDS_OBJECT(doc.get())) << "not JSON: " << line;
    JsonObject* o = json_node_get_object(doc.get());
    EXPECT_FALSE(json_string(o, "time").empty()) << line;
    EXPECT_FALSE(json_string(o, "level").empty()) << line;
    ++parsed;
    if (json_string(o, "message") == "session started") {
      ++started;
      EXPECT_EQ(json_string(o, "path"), "/cam") << line;
      EXPECT_EQ(json_string(o, "transport"), "tcp") << line;
      EXPECT_EQ(json_string(o, "role"), "viewer") << line;
      EXPECT_TRUE(json_object_get_null_member(o, "user")) << line;
    }
    if (json_string(o, "message") == "session ended") {
      ++ended;
      EXPECT_GT(json_object_get_int_member(o, "bytes"), 1000) << line;
      EXPECT_GE(json_object_get_int_member(o, "duration_ms"), 100) << line;
    }
  }
  EXPECT_GT(parsed, 3u);  // -v: connections too
  EXPECT_EQ(started, 1u);
  EXPECT_EQ(ended, 1u);
}

}  // namespace
}  // namespace gms::test
