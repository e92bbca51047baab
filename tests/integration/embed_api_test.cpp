// The embedding API as an application uses it: paths added, changed and
// removed in code, the listings while a viewer plays, a kick, recording
// start and stop, and every kind of event, each call made on the server's
// own context as the header asks.
#include <gst-mediaserver/server.h>
#include <glib/gstdio.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <mutex>

#include "child.h"
#include "context_thread.h"
#include "pipelines.h"
#include "process.h"
#include "rtsp_raw.h"
#include "viewer.h"

namespace gms::test {
namespace {

constexpr char kH264[] =
    "videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=15/1 ! "
    "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! "
    "rtph264pay name=pay0 pt=96 config-interval=-1";


// A Server on its own context thread, as an application runs it, with
// every event it tells kept.
class Embedded {
 public:
  explicit Embedded(const Config& cfg)
      : server_(std::make_unique<Server>(cfg)), thread_([this] { server_->attach(); }) {
    token_ = run_on(thread_.context(), [this] {
      return server_->subscribe([this](const ServerEvent& e) {
        std::lock_guard<std::mutex> hold(lock_);
        if (!g_main_context_is_owner(thread_.context()))
          off_context_++;
        events_.push_back(e);
      });
    });
  }
  ~Embedded() { stop(); }
  void stop() {
    if (!server_)
      return;
    thread_.stop();
    server_.reset();
  }

  template <typename F>
  auto on(F fn) {
    return run_on(thread_.context(), std::move(fn));
  }
  Server& server() { return *server_; }
  std::string url(const std::string& path) const {
    return "rtsp://127.0.0.1:" + std::to_string(server_->port()) + path;
  }

  std::vector<ServerEvent> events() {
    std::lock_guard<std::mutex> hold(lock_);
    return events_;
  }
  // The first event of `kind` on `path`, waiting up to `timeout`.
  std::optional<ServerEvent> wait_event(ServerEvent::Kind kind, const std::string& path,
                                        std::chrono::milliseconds timeout = 20s) {
    std::optional<ServerEvent> found;
    wait_until(
        [&] {
          for (const auto& e : events())
            if (e.kind == kind && e.path == path) {
              found = e;
              return true;
            }
          return false;
        },
        timeout);
    return found;
  }
  unsigned off_context() {
    std::lock_guard<std::mutex> hold(lock_);
    return off_context_;
  }
  EventToken token() const { return token_; }

 private:
  std::unique_ptr<Server> server_;
  ContextThread thread_;
  EventToken token_ = 0;
  std::mutex lock_;
  std::vector<ServerEvent> events_;
  unsigned off_context_ = 0;
};

Config base_config() {
  Config cfg;
  cfg.server.address = "127.0.0.1";
  cfg.server.port = 0;
  cfg.server.http_port = 0;
  return cfg;
}

PathConfig launch_path(const std::string& name, const std::string& launch) {
  PathConfig p;
  p.name = name;
  p.launch = launch;
  return p;
}

int describe(uint16_t port, const std::string& path) {
  RawRtsp c(port);
  return c.request("DESCRIBE rtsp://127.0.0.1:" + std::to_string(port) + path +
                   " RTSP/1.0\r\nCSeq: 1\r\n\r\n")
      .status;
}

bool listed(Embedded& es, const std::string& name) {
  auto paths = es.on([&] { return es.server().paths(); });
  return std::any_of(paths.begin(), paths.end(), [&](const PathInfo& p) { return p.name == name; });
}

TEST(EmbedApi, AddChangeRemoveWithErrors) {
  Embedded es(base_config());
  Server& s = es.server();
  PathResult r = es.on([&] { return s.add_path(launch_path("/cam", kMjpeg)); });
  EXPECT_EQ(r.status, 201u) << r.key << ": " << r.reason;
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(listed(es, "/cam"));
  EXPECT_EQ(describe(s.port(), "/cam"), 200);
  ASSERT_TRUE(es.wait_event(ServerEvent::Kind::kPathAdded, "/cam"));

  r = es.on([&] { return s.add_path(launch_path("/cam", kMjpeg)); });
  EXPECT_EQ(r.status, 409u);
  EXPECT_EQ(r.key, "name");

  // The errors a file's group would get: the key at fault and why.
  r = es.on([&] { return s.add_path(launch_path("/bad", "videotestsrc ! jpegenc ! fakesink")); });
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.key, "launch");
  EXPECT_NE(r.reason.find("pay0"), std::string::npos) << r.reason;
  PathConfig two = launch_path("/two", kMjpeg);
  two.proxy = "rtsp://127.0.0.1:1/x";
  r = es.on([&] { return s.add_path(two); });
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(r.reason.find("exactly one source"), std::string::npos) << r.reason;
  // Values a file could not hold, refused by the same reader.
  PathConfig bad = launch_path("/bad", kMjpeg);
  bad.segment_duration = 0;
  r = es.on([&] { return s.add_path(bad); });
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.key, "segment-duration") << r.reason;
  bad = launch_path("/bad", kMjpeg);
  bad.backend_transport = "pigeon";
  r = es.on([&] { return s.add_path(bad); });
  EXPECT_EQ(r.key, "backend-transport") << r.reason;
  bad = launch_path("/bad", kMjpeg);
  bad.protocols = 0;
  r = es.on([&] { return s.add_path(bad); });
  EXPECT_EQ(r.key, "protocols") << r.reason;
  bad = launch_path("/bad", kMjpeg);
  bad.root = "/nonexistent-dir-of-gms-tests";
  bad.launch.clear();
  r = es.on([&] { return s.add_path(bad); });
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.key, "root") << r.reason;
  r = es.on([&] { return s.add_path(launch_path("no-slash", kMjpeg)); });
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.key, "name");
  EXPECT_FALSE(listed(es, "/bad"));
  EXPECT_FALSE(listed(es, "/two"));

  r = es.on([&] { return s.change_path("/none", launch_path("", kMjpeg)); });
  EXPECT_EQ(r.status, 404u);
  r = es.on([&] { return s.change_path("/cam", launch_path("/other", kMjpeg)); });
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.key, "name");
  r = es.on([&] { return s.change_path("/cam", launch_path("", kH264)); });
  EXPECT_EQ(r.status, 200u) << r.key << ": " << r.reason;
  ASSERT_TRUE(es.wait_event(ServerEvent::Kind::kPathChanged, "/cam"));
  auto info = es.on([&] { return s.path("/cam"); });
  ASSERT_TRUE(info);
  EXPECT_EQ(info->kind, "launch");

  // A reload from a configuration without it keeps what code added.
  es.on([&] { return s.reload(base_config()); });
  EXPECT_TRUE(listed(es, "/cam"));

  r = es.on([&] { return s.remove_path("/cam"); });
  EXPECT_TRUE(r.ok()) << r.reason;
  ASSERT_TRUE(es.wait_event(ServerEvent::Kind::kPathRemoved, "/cam"));
  EXPECT_FALSE(listed(es, "/cam"));
  EXPECT_EQ(describe(s.port(), "/cam"), 404);
  r = es.on([&] { return s.remove_path("/cam"); });
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(es.off_context(), 0u);
}

TEST(EmbedApi, ListingWhileAViewerPlaysAndKick) {
  Embedded es(base_config());
  Server& s = es.server();
  ASSERT_TRUE(es.on([&] { return s.add_path(launch_path("/v", kMjpeg)); }).ok());
  Viewer v(es.url("/v"), "tcp");
  ASSERT_TRUE(wait_until([&] { return v.video_frames() >= 10; }, 20s)) << v.error();
  auto joined = es.wait_event(ServerEvent::Kind::kViewerJoined, "/v");
  ASSERT_TRUE(joined);
  EXPECT_FALSE(joined->session.empty());
  EXPECT_EQ(joined->detail.rfind("tcp 127.0.0.1:", 0), 0u) << joined->detail;

  auto sessions = es.on([&] { return s.sessions(); });
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].id, joined->session);
  EXPECT_EQ(sessions[0].path, "/v");
  EXPECT_EQ(sessions[0].role, "viewer");
  EXPECT_EQ(sessions[0].transport, "tcp");
  ASSERT_TRUE(wait_until(
      [&] {
        auto p = es.on([&] { return s.path("/v"); });
        return p && p->figures.readers_tcp == 1 && p->figures.bytes_out > 0 &&
               p->figures.frames > 0 && p->readers && p->readers->size() == 1;
      },
      10s));
  auto all = es.on([&] { return s.paths(); });
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].viewers.value_or(0), 1u);
  EXPECT_EQ(all[0].live.value_or(false), true);
  EXPECT_EQ(es.on([&] { return s.figures(); }).sessions, 1u);

  EXPECT_FALSE(es.on([&] { return s.kick_session("no-such-session"); }));
  EXPECT_TRUE(es.on([&] { return s.kick_session(joined->session); }));
  auto left = es.wait_event(ServerEvent::Kind::kViewerLeft, "/v");
  ASSERT_TRUE(left);
  EXPECT_EQ(left->session, joined->session);
  EXPECT_TRUE(wait_until([&] { return es.on([&] { return s.sessions(); }).empty(); }, 10s));
  EXPECT_TRUE(wait_until([&] { return !v.error().empty() || v.got_eos(); }, 10s));
  EXPECT_EQ(es.off_context(), 0u);
}

TEST(EmbedApi, RecordingStartStopAndSegments) {
  GCharPtr dir(g_dir_make_tmp("gms-embed-rec-XXXXXX", nullptr));
  ASSERT_TRUE(dir);
  Config cfg = base_config();
  cfg.server.record_dir = dir.get();
  PathConfig p = launch_path("/rec", kH264);
  p.record = false;
  p.segment_duration = 1;
  cfg.paths.push_back(p);
  Embedded es(cfg);
  Server& s = es.server();
  EXPECT_EQ(es.on([&] { return s.start_recording("/none"); }).status, 404u);
  RecordingResult r = es.on([&] { return s.start_recording("/rec"); });
  EXPECT_TRUE(r.ok()) << r.error;
  ASSERT_TRUE(wait_until(
      [&] {
        auto recs = es.on([&] { return s.recordings(); });
        return recs.size() == 1 && recs[0].status.state == RecordingStatus::State::kRecording;
      },
      20s));
  auto segment = es.wait_event(ServerEvent::Kind::kSegmentWritten, "/rec", 30s);
  ASSERT_TRUE(segment);
  EXPECT_TRUE(g_file_test(segment->detail.c_str(), G_FILE_TEST_EXISTS)) << segment->detail;
  r = es.on([&] { return s.stop_recording("/rec"); });
  EXPECT_TRUE(r.ok()) << r.error;
  auto recs = es.on([&] { return s.recordings(); });
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].status.state, RecordingStatus::State::kStopped);
  EXPECT_GE(recs[0].status.segments, 1u);
  auto files = recorded_segments(recs[0].directory);
  EXPECT_GE(files.size(), 1u);
  es.stop();
  for (const auto& f : recorded_segments(std::string(dir.get()) + "/rec"))
    g_unlink(f.path.c_str());
  g_rmdir((std::string(dir.get()) + "/rec").c_str());
  g_rmdir(dir.get());
}

TEST(EmbedApi, PublisherEvents) {
  Config cfg = base_config();
  PathConfig p;
  p.name = "/pub";
  p.publish = true;
  cfg.paths.push_back(p);
  Embedded es(cfg);
  {
    Child pub({"gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "!",
               "video/x-raw,width=160,height=120,framerate=15/1", "!", "x264enc",
               "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=15", "!",
               "rtspclientsink", "location=" + es.url("/pub"), "protocols=tcp"});
    auto started = es.wait_event(ServerEvent::Kind::kPublisherStarted, "/pub", 30s);
    ASSERT_TRUE(started) << pub.output();
    EXPECT_FALSE(started->session.empty());
    auto info = es.on([&] { return es.server().path("/pub"); });
    ASSERT_TRUE(info);
    EXPECT_EQ(info->publisher_count.value_or(0), 1u);
  }  // the publisher is killed: its connection closes
  auto stopped = es.wait_event(ServerEvent::Kind::kPublisherStopped, "/pub", 30s);
  ASSERT_TRUE(stopped);
  EXPECT_EQ(es.off_context(), 0u);
}

// A publisher's H.264 with an IDR every 10 access units: the path counts
// one key frame per 10 frames, not one per RTP packet of a key frame.
TEST(EmbedApi, KeyFramesAreAccessUnitsThatStartAPicture) {
  constexpr unsigned kGop = 10, kFrames = 400;
  Config cfg = base_config();
  PathConfig p;
  p.name = "/gop";
  p.publish = true;
  cfg.paths.push_back(p);
  Embedded es(cfg);
  // ffmpeg keeps to the GOP from the first frame (rtspclientsink asks its
  // encoder for an extra key frame when RECORD starts). Large pictures:
  // every key frame spans several RTP packets.
  Child pub({"ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i",
             "testsrc2=size=640x480:rate=30", "-frames:v", std::to_string(kFrames), "-c:v", "libx264",
             "-preset", "ultrafast", "-tune", "zerolatency", "-g", std::to_string(kGop),
             "-keyint_min", std::to_string(kGop), "-sc_threshold", "0", "-f", "rtsp",
             "-rtsp_transport", "tcp", es.url("/gop")});
  PathFigures f;
  ASSERT_TRUE(wait_until(
      [&] {
        auto info = es.on([&] { return es.server().path("/gop"); });
        if (info)
          f = info->figures;
        return f.frames >= kFrames - 5;
      },
      60s))
      << "frames=" << f.frames << " key_frames=" << f.key_frames << " " << pub.output();
  const double expected = double(f.frames) / kGop;
  EXPECT_NEAR(double(f.key_frames), expected, std::max(1.0, expected * 0.02))
      << "frames=" << f.frames << " packets in=" << f.bytes_in;
  // Several packets per key frame, so a count of packets would be far off.
  EXPECT_GT(f.bytes_in / std::max<uint64_t>(f.frames, 1), 1400u);
}

TEST(EmbedApi, BackendUpAndDown) {
  auto origin = std::make_unique<Embedded>(base_config());
  ASSERT_TRUE(origin->on([&] { return origin->server().add_path(launch_path("/o", kMjpeg)); }).ok());
  Embedded edge(base_config());
  PathConfig p;
  p.name = "/edge";
  p.proxy = origin->url("/o");
  p.backend_transport = "tcp";
  p.timeout = 2;
  p.on_demand = false;
  ASSERT_TRUE(edge.on([&] { return edge.server().add_path(p); }).ok());
  auto up = edge.wait_event(ServerEvent::Kind::kBackendUp, "/edge", 30s);
  ASSERT_TRUE(up);
  EXPECT_EQ(up->detail, p.proxy);
  origin.reset();  // the back end goes away
  ASSERT_TRUE(edge.wait_event(ServerEvent::Kind::kBackendDown, "/edge", 30s));
  // Unsubscribed: nothing more arrives.
  edge.on([&] {
    edge.server().unsubscribe(edge.token());
    return 0;
  });
  const size_t before = edge.events().size();
  edge.on([&] { return edge.server().remove_path("/edge"); });
  // Events are queued on the context before this call's own source: once
  // it ran, any event of the removal would have been delivered.
  edge.on([] { return 0; });
  EXPECT_EQ(edge.events().size(), before);
  EXPECT_EQ(edge.off_context(), 0u);
}

}  // namespace
}  // namespace gms::test
