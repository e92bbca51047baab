// The proxy end to end: an origin served by gst-mediaserver itself on another
// port, a proxy in front of it, real viewers through the proxy.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include <gst/rtsp-server/rtsp-server.h>

#include "context_thread.h"
#include "pipelines.h"
#include "process.h"
#include "rtsp_raw.h"
#include "viewer.h"

namespace gms::test {
namespace {

std::unique_ptr<ServerProcess> origin(uint16_t port = 0) {
  return std::make_unique<ServerProcess>(
      std::vector<std::string>{"-v", "--mount", std::string("/o=") + kH264Opus}, true, port);
}

std::unique_ptr<ServerProcess> proxy_with(const std::string& path_keys) {
  std::string conf = write_temp_file("proxy.conf", "[server]\nverbose=1\n[path /cam]\n" + path_keys);
  return std::make_unique<ServerProcess>(std::vector<std::string>{conf});
}

TEST(Proxy, RelaysToUdpAndTcpViewersOverOneBackEndSession) {
  auto o = origin();
  ServerProcess p({"-v", "--proxy", o->url("/o")});
  ASSERT_TRUE(p.ready()) << p.log();
  Viewer udp(p.url("/proxyStream"), "udp");
  Viewer tcp(p.url("/proxyStream"), "tcp");
  EXPECT_TRUE(wait_until(
      [&] {
        return udp.video_frames() >= 30 && tcp.video_frames() >= 30 && udp.audio_buffers() >= 10 &&
               tcp.audio_buffers() >= 10;
      },
      20s))
      << udp.video_frames() << " " << tcp.video_frames() << " " << udp.error() << tcp.error()
      << "\n" << p.log();
  EXPECT_EQ(udp.width(), 320);
  EXPECT_EQ(tcp.height(), 240);
  RunResult r = run({"ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
                     "stream=codec_name,width,height", "-of", "compact", p.url("/proxyStream")},
                    20s);
  EXPECT_NE(r.out.find("codec_name=h264|width=320|height=240"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("codec_name=opus"), std::string::npos) << r.out;
  // Three viewers, one back-end session at the origin.
  EXPECT_EQ(count_occurrences(o->log(), "new session"), 1u) << o->log();
}

// A live555ProxyServer command line, unchanged: options, then the URLs;
// two URLs are /proxyStream-1 and /proxyStream-2, as live555 names them.
TEST(Proxy, Live555CommandLineWithTwoUrls) {
  ServerProcess o({"-v", "--mount", std::string("/a=") + kH264Opus, "--mount",
                   std::string("/b=") + kMjpeg});
  ASSERT_TRUE(o.ready()) << o.log();
  ServerProcess p({"-v", "-t", "-D", "3", o.url("/a"), o.url("/b")});
  ASSERT_TRUE(p.ready()) << p.log();
  Viewer one(p.url("/proxyStream-1"), "tcp");
  Viewer two(p.url("/proxyStream-2"), "tcp");
  EXPECT_TRUE(wait_until([&] { return one.video_frames() >= 15 && two.video_frames() >= 15; }, 20s))
      << one.video_frames() << " " << two.video_frames() << " " << one.error() << two.error()
      << "\n" << p.log();
  EXPECT_EQ(one.width(), 320);
  // Each is its own back end: H.264 + Opus, and MJPEG.
  RunResult r = run({"ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
                     "stream=codec_name", "-of", "csv=p=0", p.url("/proxyStream-2")},
                    20s);
  EXPECT_EQ(r.out, "mjpeg\n") << r.err;
  // The name live555 gives a single URL is not served here.
  RawRtsp c(p.port());
  EXPECT_EQ(c.request("DESCRIBE " + p.url("/proxyStream") + " RTSP/1.0\r\nCSeq: 1\r\n\r\n", 10s)
                .status,
            404);
}

TEST(Proxy, ViewersSurviveKill9OfTheOrigin) {
  auto o = origin();
  uint16_t port = o->port();
  auto p = proxy_with("proxy=" + o->url("/o") + "\nbackend-transport=tcp\ntimeout=2\n");
  ASSERT_TRUE(p->ready()) << p->log();
  Viewer v(p->url("/cam"), "tcp");
  ASSERT_TRUE(wait_until([&] { return v.video_frames() >= 15; }, 20s)) << v.error() << p->log();
  o->signal(SIGKILL);
  o->wait_exit(5s);
  ASSERT_TRUE(wait_until([&] { return p->log_contains("retrying in"); }, 10s)) << p->log();
  o = origin(port);
  ASSERT_TRUE(o->ready());
  auto back = std::chrono::steady_clock::now();
  unsigned before = v.video_frames();
  ASSERT_TRUE(wait_until([&] { return v.video_frames() > before; }, 20s)) << p->log();
  auto first_frame = std::chrono::steady_clock::now() - back;
  fprintf(stderr, "origin back -> first frame at the viewer: %lld ms\n",
          static_cast<long long>(
              std::chrono::duration_cast<std::chrono::milliseconds>(first_frame).count()));
  EXPECT_TRUE(wait_until([&] { return v.video_frames() > before + 30; }, 20s));
  EXPECT_EQ(v.error(), "");
  EXPECT_FALSE(v.got_eos());
  EXPECT_FALSE(v.pts_went_back());
}

TEST(Proxy, KeepAliveOverTcpWhileDataFlows) {
  auto o = std::make_unique<ServerProcess>(
      std::vector<std::string>{"-V", "--mount", std::string("/o=") + kMjpeg});
  ASSERT_TRUE(o->ready());
  auto p = proxy_with("proxy=" + o->url("/o") + "\nbackend-transport=tcp\nkeepalive=1\n");
  ASSERT_TRUE(p->ready());
  Viewer v(p->url("/cam"), "tcp");
  ASSERT_TRUE(wait_until([&] { return v.video_frames() >= 5; }, 20s));
  EXPECT_TRUE(wait_until([&] { return count_occurrences(o->log(), "GET_PARAMETER /o") >= 2; }, 10s))
      << o->log();
}

TEST(Proxy, OnDemandConnectsAtFirstViewerAndLingers) {
  auto o = origin();
  auto p = proxy_with("proxy=" + o->url("/o") + "\non-demand=true\nlinger=1\n");
  ASSERT_TRUE(p->ready());
  EXPECT_FALSE(wait_until([&] { return o->log_contains("new session"); }, 1s));
  {
    Viewer v(p->url("/cam"), "udp");
    EXPECT_TRUE(wait_until([&] { return v.video_frames() >= 10; }, 20s)) << v.error() << p->log();
    EXPECT_EQ(count_occurrences(o->log(), "new session"), 1u);
  }
  EXPECT_TRUE(wait_until([&] { return p->log_contains("disconnecting from the back end"); }, 10s))
      << p->log();
  EXPECT_TRUE(wait_until([&] { return count_occurrences(o->log(), "disconnected") >= 1; }, 10s)) << o->log();
  Viewer again(p->url("/cam"), "tcp");
  EXPECT_TRUE(wait_until([&] { return again.video_frames() >= 10; }, 20s)) << p->log();
}

TEST(Proxy, BackEndOverUdpTcpAndHttpTunnel) {
  auto o = origin();
  for (const char* t : {"udp", "tcp", "http"}) {
    // gst-rtsp-server tunnels RTSP over HTTP on its RTSP port.
    auto p = proxy_with("proxy=" + o->url("/o") + "\nbackend-transport=" + t +
                        "\nbackend-http-port=" + std::to_string(o->port()) + "\n");
    ASSERT_TRUE(p->ready());
    Viewer v(p->url("/cam"), "udp");
    EXPECT_TRUE(wait_until([&] { return v.video_frames() >= 10; }, 20s)) << t << p->log();
  }
}

// A back end that accepts connections and then misbehaves in `mode`.
class BadBackEnd {
 public:
  enum Mode { kSilent, kGarbage, kNoTracks };
  // Serves on its own thread and context: the test thread blocks in requests.
  explicit BadBackEnd(Mode mode)
      : mode_(mode), thread_([this] {
          service_ = Ref<GSocketService>::adopt(g_socket_service_new());
          port_ = g_socket_listener_add_any_inet_port(G_SOCKET_LISTENER(service_.get()), nullptr,
                                                      nullptr);
          g_signal_connect(service_.get(), "incoming", G_CALLBACK(on_incoming), this);
          g_socket_service_start(service_.get());
        }) {}
  ~BadBackEnd() {
    thread_.stop();
    g_socket_service_stop(service_.get());
  }
  uint16_t port() const { return port_; }

 private:
  static gboolean on_incoming(GSocketService*, GSocketConnection* conn, GObject*, gpointer self) {
    auto* b = static_cast<BadBackEnd*>(self);
    b->conns_.push_back(Ref<GSocketConnection>::borrow(conn));
    if (b->mode_ == kSilent)
      return TRUE;
    GOutputStream* out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    std::string reply;
    if (b->mode_ == kGarbage) {
      reply = std::string("\x01\x02garbage\xff\r\n\r\nHTTP/9 what\r\n\r\n", 30);
    } else {
      std::string sdp = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\n";
      for (int cseq = 1; cseq <= 2; ++cseq)
        reply += "RTSP/1.0 200 OK\r\nCSeq: " + std::to_string(cseq) +
                 "\r\nPublic: OPTIONS, DESCRIBE\r\nContent-Type: application/sdp\r\n"
                 "Content-Length: " + std::to_string(sdp.size()) + "\r\n\r\n" + sdp;
    }
    g_output_stream_write_all(out, reply.data(), reply.size(), nullptr, nullptr, nullptr);
    return TRUE;
  }
  Mode mode_;
  Ref<GSocketService> service_;
  uint16_t port_ = 0;
  std::vector<Ref<GSocketConnection>> conns_;
  ContextThread thread_;  // last: stopped before the members it uses go
};

TEST(Proxy, BadBackEndsGive503QuicklyAndOthersPlay) {
  auto o = origin();
  BadBackEnd silent(BadBackEnd::kSilent), garbage(BadBackEnd::kGarbage),
      notracks(BadBackEnd::kNoTracks);
  std::string conf = "[server]\nverbose=1\n[path /good]\nproxy=" + o->url("/o") + "\n";
  auto add = [&](const std::string& name, uint16_t port) {
    conf += "[path " + name + "]\nproxy=rtsp://127.0.0.1:" + std::to_string(port) +
            "/x\ntimeout=2\n";
  };
  add("/silent", silent.port());
  add("/garbage", garbage.port());
  add("/notracks", notracks.port());
  add("/refused", free_port());
  conf += "[path /unresolvable]\nproxy=rtsp://no-such-host.invalid/x\n";
  ServerProcess p({write_temp_file("p.conf", conf)});
  ASSERT_TRUE(p.ready()) << p.log();
  for (const char* path : {"/silent", "/garbage", "/notracks", "/refused", "/unresolvable"}) {
    RawRtsp c(p.port());
    auto t0 = std::chrono::steady_clock::now();
    RtspReply r = c.request("DESCRIBE " + p.url(path) + " RTSP/1.0\r\nCSeq: 1\r\n\r\n", 20s);
    EXPECT_EQ(r.status, 503) << path << ": " << r.text << p.log();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 7s) << path;
  }
  Viewer v(p.url("/good"), "tcp");
  EXPECT_TRUE(wait_until([&] { return v.video_frames() >= 10; }, 20s)) << p.log();
  // Each failure is logged with its own reason.
  for (const char* path : {"/silent", "/garbage", "/notracks", "/refused", "/unresolvable"})
    EXPECT_TRUE(wait_until(
        [&] { return p.log_contains(std::string("proxy ") + path + ": rtsp://"); }, 10s))
        << path << p.log();
}

// A stock gst-rtsp-server that wants Basic credentials (user/secret), on its
// own thread: the test thread blocks in requests.
class AuthOrigin {
 public:
  AuthOrigin() {
    server_ = Ref<GstRTSPServer>::adopt(gst_rtsp_server_new());
    gst_rtsp_server_set_address(server_.get(), "127.0.0.1");
    gst_rtsp_server_set_service(server_.get(), "0");
    auto auth = Ref<GstRTSPAuth>::adopt(gst_rtsp_auth_new());
    auto token = UniquePtr<GstRTSPToken, gst_rtsp_token_unref>(gst_rtsp_token_new(
        GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, "user", nullptr));
    GCharPtr basic(gst_rtsp_auth_make_basic("user", "secret"));
    gst_rtsp_auth_add_basic(auth.get(), basic.get(), token.get());
    gst_rtsp_server_set_auth(server_.get(), auth.get());
    auto mounts = Ref<GstRTSPMountPoints>::adopt(gst_rtsp_server_get_mount_points(server_.get()));
    GstRTSPMediaFactory* f = gst_rtsp_media_factory_new();
    gst_rtsp_media_factory_set_launch(f, (std::string("( ") + kMjpeg + " )").c_str());
    gst_rtsp_media_factory_set_shared(f, TRUE);
    gst_rtsp_media_factory_add_role(f, "user", GST_RTSP_PERM_MEDIA_FACTORY_ACCESS, G_TYPE_BOOLEAN,
                                    TRUE, GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, G_TYPE_BOOLEAN,
                                    TRUE, nullptr);
    gst_rtsp_mount_points_add_factory(mounts.get(), "/o", f);
    gst_rtsp_server_attach(server_.get(), thread_.context());
    port_ = static_cast<uint16_t>(gst_rtsp_server_get_bound_port(server_.get()));
  }
  ~AuthOrigin() {
    thread_.stop();
    server_.reset();
  }
  std::string url(const std::string& userinfo = {}) const {
    return "rtsp://" + userinfo + "127.0.0.1:" + std::to_string(port_) + "/o";
  }

 private:
  ContextThread thread_;
  Ref<GstRTSPServer> server_;
  uint16_t port_ = 0;
};

TEST(Proxy, BackEndCredentials) {
  AuthOrigin o;
  std::string conf = "[server]\nverbose=1\n"
                     "[path /inurl]\nproxy=" + o.url("user:secret@") + "\n"
                     "[path /keys]\nproxy=" + o.url() + "\nbackend-user=user\nbackend-password=secret\n"
                     "[path /none]\nproxy=" + o.url() + "\n";
  ServerProcess p({write_temp_file("p.conf", conf)});
  ASSERT_TRUE(p.ready()) << p.log();
  Viewer a(p.url("/inurl"), "tcp");
  Viewer b(p.url("/keys"), "udp");
  EXPECT_TRUE(wait_until([&] { return a.video_frames() >= 5 && b.video_frames() >= 5; }, 20s))
      << a.error() << b.error() << p.log();
  RawRtsp c(p.port());
  RtspReply r = c.request("DESCRIBE " + p.url("/none") + " RTSP/1.0\r\nCSeq: 1\r\n\r\n", 15s);
  EXPECT_EQ(r.status, 503) << r.text;
  EXPECT_TRUE(wait_until([&] { return p.log_contains("Unauthorized"); }, 10s)) << p.log();
}

TEST(Proxy, ReloadMovesThePathToAnotherBackEnd) {
  auto a = origin();
  ServerProcess b({"--mount", std::string("/o=") + kMjpeg});  // 160x120, a's is 320x240
  ASSERT_TRUE(b.ready());
  std::string conf = write_temp_file("p.conf", "[path /cam]\nproxy=" + a->url("/o") + "\n");
  ServerProcess p({conf});
  ASSERT_TRUE(p.ready());
  {
    Viewer v(p.url("/cam"), "tcp");
    ASSERT_TRUE(wait_until([&] { return v.video_frames() >= 5; }, 20s)) << p.log();
    EXPECT_EQ(v.width(), 320);
  }
  std::string next = "[path /cam]\nproxy=" + b.url("/o") + "\n";
  ASSERT_TRUE(g_file_set_contents(conf.c_str(), next.c_str(), -1, nullptr));
  p.signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return p.log_contains("reload: changed /cam"); }, 10s)) << p.log();
  Viewer v(p.url("/cam"), "udp");
  EXPECT_TRUE(wait_until([&] { return v.video_frames() >= 5; }, 20s)) << p.log();
  EXPECT_EQ(v.width(), 160);
}

TEST(Proxy, DeadBackEndGives503Quickly) {
  auto p = proxy_with("proxy=rtsp://127.0.0.1:" + std::to_string(free_port()) + "/x\n");
  ASSERT_TRUE(p->ready());
  RawRtsp c(p->port());
  auto t0 = std::chrono::steady_clock::now();
  RtspReply r = c.request("DESCRIBE " + p->url("/cam") + " RTSP/1.0\r\nCSeq: 1\r\n\r\n", 15s);
  EXPECT_EQ(r.status, 503) << r.text;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 6s);
}

}  // namespace
}  // namespace gms::test
