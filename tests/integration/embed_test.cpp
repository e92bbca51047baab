// The library as an application embeds it: Config + Server on the
// application's own GMainContext, in-process viewers.
#include <gst-mediaserver/server.h>
#include <gtest/gtest.h>

#include <thread>

#include "pipelines.h"
#include "process.h"
#include "rtsp_raw.h"
#include "viewer.h"

namespace gms::test {
namespace {

// Runs a Server on its own context and thread, like an application would.
class EmbeddedServer {
 public:
  explicit EmbeddedServer(const Config& cfg) {
    ctx_ = g_main_context_new();
    loop_ = g_main_loop_new(ctx_, FALSE);
    server_ = std::make_unique<Server>(cfg);
    g_main_context_push_thread_default(ctx_);
    server_->attach();  // the thread-default context
    g_main_context_pop_thread_default(ctx_);
    thread_ = std::thread([this] {
      g_main_context_push_thread_default(ctx_);
      g_main_loop_run(loop_);
      g_main_context_pop_thread_default(ctx_);
    });
  }
  ~EmbeddedServer() {
    // Quit from inside the loop: a quit before the loop runs would be lost.
    g_main_context_invoke(
        ctx_, [](gpointer loop) -> gboolean {
          g_main_loop_quit(static_cast<GMainLoop*>(loop));
          return G_SOURCE_REMOVE;
        },
        loop_);
    thread_.join();
    server_.reset();
    g_main_loop_unref(loop_);
    g_main_context_unref(ctx_);
  }
  Server& server() { return *server_; }

 private:
  GMainContext* ctx_;
  GMainLoop* loop_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

TEST(Embed, ServesOnTheApplicationsContext) {
  Config cfg = Config::from_data(std::string("[server]\naddress=127.0.0.1\nport=0\n[path /e]\nlaunch=") +
                                     kMjpeg + "\n",
                                 "embedded");
  cfg.validate();
  cfg.check_launch_lines();
  EmbeddedServer es(cfg);
  ASSERT_GT(es.server().port(), 0);
  ASSERT_EQ(es.server().urls().size(), 1u);
  Viewer v(es.server().urls()[0], "tcp");
  EXPECT_TRUE(wait_until([&] { return v.video_frames() >= 5; }, 20s)) << v.error();
  EXPECT_EQ(es.server().session_count(), 1u);
}

TEST(Embed, ReloadThroughTheApi) {
  Config cfg = Config::from_data(std::string("[server]\naddress=127.0.0.1\nport=0\n[path /a]\nlaunch=") +
                                     kMjpeg + "\n",
                                 "embedded");
  EmbeddedServer es(cfg);
  Config next = cfg;
  next.paths[0].name = "/b";
  auto notes = es.server().reload(next);
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0], "removed /a");
  EXPECT_EQ(notes[1], "added /b");
  RawRtsp c(es.server().port());
  std::string base = "rtsp://127.0.0.1:" + std::to_string(es.server().port());
  EXPECT_EQ(c.request("DESCRIBE " + base + "/a RTSP/1.0\r\nCSeq: 1\r\n\r\n").status, 404);
  EXPECT_EQ(c.request("DESCRIBE " + base + "/b RTSP/1.0\r\nCSeq: 2\r\n\r\n").status, 200);
}

TEST(Embed, PortInUseThrowsConfigError) {
  Config cfg;
  cfg.server.address = "127.0.0.1";
  cfg.server.port = 0;
  EmbeddedServer first(cfg);
  cfg.server.port = first.server().port();
  Server second(cfg);
  EXPECT_THROW(second.attach(), ConfigError);
}

}  // namespace
}  // namespace gms::test
