// The library as an application embeds it: Config + Server on the
// application's own GMainContext, in-process viewers.
#include <gst-mediaserver/server.h>
#include <gtest/gtest.h>


#include "context_thread.h"
#include "pipelines.h"
#include "process.h"
#include "rtsp_raw.h"
#include "viewer.h"

namespace gms::test {
namespace {

// Runs a Server on its own context and thread, like an application would:
// attach() binds it to the thread-default context.
class EmbeddedServer {
 public:
  explicit EmbeddedServer(const Config& cfg)
      : server_(std::make_unique<Server>(cfg)), thread_([this] { server_->attach(); }) {}
  ~EmbeddedServer() {
    thread_.stop();
    server_.reset();
  }
  Server& server() { return *server_; }
  GMainContext* context() const { return thread_.context(); }

 private:
  std::unique_ptr<Server> server_;
  ContextThread thread_;
};

TEST(Embed, ServesOnTheApplicationsContext) {
  Config cfg = Config::from_data(std::string("[server]\naddress=127.0.0.1\nport=0\nhttp-port=0\n[path /e]\nlaunch=") +
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
  Config cfg = Config::from_data(std::string("[server]\naddress=127.0.0.1\nport=0\nhttp-port=0\n[path /a]\nlaunch=") +
                                     kMjpeg + "\n",
                                 "embedded");
  EmbeddedServer es(cfg);
  Config next = cfg;
  next.paths[0].name = "/b";
  // On the server's context, as its calls must be: from the test's thread
  // it raced the context's own work on the paths (a retention sweep read
  // a path being replaced: UBSan's null member call).
  auto notes = run_on(es.context(), [&] { return es.server().reload(next); });
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
  cfg.server.http_port = 0;  // the default, 8080, may be taken on a test machine
  EmbeddedServer first(cfg);
  cfg.server.port = first.server().port();
  Server second(cfg);
  EXPECT_THROW(second.attach(), ConfigError);
}

}  // namespace
}  // namespace gms::test
