// The HTTP API of the real server: paths and recordings as JSON (read with
// json-glib), start/stop of a recording, /metrics, and 4xx answers to bad
// requests that leave the server serving. The disk-full case (state "error"
// with the error text, "recording" again once there is space) is in the
// record test, which has the private tmpfs.
#include <glib/gstdio.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "http_client.h"
#include "pipelines.h"
#include "process.h"
#include "record/segment_listing.h"
#include "viewer.h"

namespace gms::test {
namespace {

std::string temp_dir() {
  GCharPtr d(g_dir_make_tmp("gms-http-XXXXXX", nullptr));
  return d.get();
}

// GET `url` as JSON; the root object's array member `name` (null if not).
struct JsonDoc {
  HttpReply reply;
  JsonNodePtr doc;
  JsonArray* array(const char* name) const {
    if (!doc || !JSON_NODE_HOLDS_OBJECT(doc.get()))
      return nullptr;
    JsonObject* o = json_node_get_object(doc.get());
    return json_object_has_member(o, name) ? json_object_get_array_member(o, name) : nullptr;
  }
};
JsonDoc get_json(const std::string& url) {
  JsonDoc d;
  d.reply = http_get(url);
  d.doc = parse_json(d.reply.body);
  return d;
}

// The recording entry of `path` in GET /api/v1/recordings, as a copy.
struct Recording {
  bool found = false;
  std::string state, last_error, last_error_time, current_segment;
  size_t segments = 0;
};
Recording recording_of(const ServerProcess& srv, const std::string& path) {
  Recording r;
  JsonDoc d = get_json(srv.http_url("/api/v1/recordings"));
  JsonObject* o = json_find(d.array("recordings"), "path", path);
  if (!o)
    return r;
  r.found = true;
  r.state = json_string(o, "state");
  r.last_error = json_string(o, "last_error");
  r.last_error_time = json_string(o, "last_error_time");
  r.current_segment = json_string(o, "current_segment");
  r.segments = json_array_get_length(json_object_get_array_member(o, "segments"));
  return r;
}

class HttpApi : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir();
    std::string conf = write_temp_file(
        "api.conf", "[server]\nverbose=1\nrecord-dir=" + dir_ + "\n[path /cam]\nlaunch=" + kH264Opus +
                        "\nsegment-duration=1\n[path /plain]\nlaunch=" + kMjpeg +
                        "\nrecord=false\nshared=false\n[path /live/*]\npublish=true\n");
    srv_ = std::make_unique<ServerProcess>(std::vector<std::string>{conf}, true, 0,
                                           std::vector<std::string>{}, true);
    ASSERT_TRUE(srv_->ready()) << srv_->log();
  }
  std::string dir_;
  std::unique_ptr<ServerProcess> srv_;
};

TEST_F(HttpApi, PathsAndRecordingsAsJson) {
  ASSERT_NE(srv_->log().find("HTTP API on http://127.0.0.1:" + std::to_string(srv_->http_port()) +
                             " (loopback only until users are configured)"),
            std::string::npos)
      << srv_->log();
  // The recorder starts when the line delivers, and a segment appears.
  Recording cam;
  ASSERT_TRUE(wait_until(
      [&] {
        cam = recording_of(*srv_, "/cam");
        return cam.state == "recording" && cam.segments >= 1 && !cam.current_segment.empty();
      },
      20s))
      << cam.state << " " << cam.segments << srv_->log_tail();
  EXPECT_EQ(cam.current_segment.rfind(dir_ + "/cam/", 0), 0u) << cam.current_segment;
  EXPECT_TRUE(cam.last_error.empty());

  JsonDoc rec = get_json(srv_->http_url("/api/v1/recordings"));
  EXPECT_EQ(rec.reply.status, 200u);
  EXPECT_EQ(rec.reply.content_type, "application/json");
  JsonObject* r = json_find(rec.array("recordings"), "path", "/cam");
  ASSERT_TRUE(r) << rec.reply.body;
  EXPECT_EQ(json_string(r, "directory"), dir_ + "/cam");
  // Every listed segment is a file on disk, with its start from its name.
  auto on_disk = record::list_segments(dir_ + "/cam");
  JsonArray* segs = json_object_get_array_member(r, "segments");
  ASSERT_GE(json_array_get_length(segs), 1u);
  JsonObject* first = json_array_get_object_element(segs, 0);
  ASSERT_FALSE(on_disk.empty());
  EXPECT_EQ(json_string(first, "file"), on_disk[0].name);
  EXPECT_GT(json_object_get_int_member(first, "bytes"), 0);
  EXPECT_EQ(json_string(first, "start").size(), 27u) << json_string(first, "start");  // ….123456Z
  EXPECT_FALSE(json_find(rec.array("recordings"), "path", "/plain")) << rec.reply.body;

  JsonDoc paths = get_json(srv_->http_url("/api/v1/paths"));
  ASSERT_EQ(paths.reply.status, 200u);
  JsonArray* all = paths.array("paths");
  ASSERT_TRUE(all) << paths.reply.body;
  EXPECT_EQ(json_array_get_length(all), 3u);
  JsonObject* p = json_find(all, "name", "/cam");
  ASSERT_TRUE(p);
  EXPECT_EQ(json_string(p, "kind"), "launch");
  EXPECT_TRUE(json_object_get_boolean_member(p, "live"));
  EXPECT_EQ(json_object_get_int_member(p, "viewers"), 0);
  EXPECT_EQ(json_string(p, "recording"), "recording");
  JsonObject* plain = json_find(all, "name", "/plain");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(json_object_has_member(plain, "recording"));
  EXPECT_FALSE(json_object_has_member(plain, "live"));  // runs per viewer: not known
  JsonObject* live = json_find(all, "name", "/live/*");
  ASSERT_TRUE(live);
  EXPECT_EQ(json_string(live, "kind"), "publish");
  EXPECT_FALSE(json_object_get_boolean_member(live, "live"));

  HttpReply m = http_get(srv_->http_url("/metrics"));
  EXPECT_EQ(m.status, 200u);
  EXPECT_NE(m.body.find("\ngms_paths 3\n"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("gms_recording{path=\"/cam\"} 1\n"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("gms_recording_errors_total{path=\"/cam\"} 0\n"), std::string::npos)
      << m.body;
}

// PLAY sessions of the path, the relayed (recorded) and the per-viewer kind.
TEST_F(HttpApi, ViewersAreCounted) {
  auto viewers_of = [&](const std::string& name) -> gint64 {
    JsonDoc d = get_json(srv_->http_url("/api/v1/paths"));
    JsonObject* p = json_find(d.array("paths"), "name", name);
    return p && json_object_has_member(p, "viewers") ? json_object_get_int_member(p, "viewers") : -1;
  };
  EXPECT_EQ(viewers_of("/cam"), 0);
  Viewer cam(srv_->url("/cam"), "tcp");
  Viewer plain(srv_->url("/plain"), "tcp");
  ASSERT_TRUE(wait_until([&] { return cam.video_frames() >= 5 && plain.video_frames() >= 5; }, 20s))
      << cam.error() << plain.error();
  EXPECT_EQ(viewers_of("/cam"), 1);
  EXPECT_EQ(viewers_of("/plain"), 1);
  EXPECT_NE(http_get(srv_->http_url("/metrics")).body.find("\ngms_sessions 2\n"), std::string::npos);
}

TEST_F(HttpApi, StopAndStartRecording) {
  ASSERT_TRUE(wait_until([&] { return recording_of(*srv_, "/cam").state == "recording"; }, 20s))
      << srv_->log_tail();
  HttpReply stop = http_request("POST", srv_->http_url("/api/v1/recordings/cam/stop"));
  ASSERT_EQ(stop.status, 200u) << stop.body;
  auto doc = parse_json(stop.body);
  ASSERT_TRUE(doc);
  EXPECT_EQ(json_string(json_node_get_object(doc.get()), "state"), "stopped") << stop.body;
  EXPECT_EQ(recording_of(*srv_, "/cam").state, "stopped");
  EXPECT_NE(http_get(srv_->http_url("/metrics")).body.find("gms_recording{path=\"/cam\"} 0\n"),
            std::string::npos);
  // Stays stopped: the configuration does not start it again.
  const size_t files = record::list_segments(dir_ + "/cam").size();
  EXPECT_FALSE(wait_until([&] { return recording_of(*srv_, "/cam").state != "stopped"; }, 1500ms));

  HttpReply start = http_request("POST", srv_->http_url("/api/v1/recordings/cam/start"));
  ASSERT_EQ(start.status, 200u) << start.body;
  EXPECT_TRUE(wait_until(
      [&] {
        Recording r = recording_of(*srv_, "/cam");
        return r.state == "recording" && record::list_segments(dir_ + "/cam").size() > files;
      },
      15s))
      << srv_->log_tail();
}

TEST_F(HttpApi, BadRequestsGet4xxAndNothingBreaks) {
  struct Case {
    const char* method;
    const char* path;
    unsigned status;
  } cases[] = {
      {"POST", "/api/v1/recordings/nope/start", 404},  // unknown path
      {"POST", "/api/v1/recordings/live/*/start", 400},
      {"POST", "/api/v1/recordings/%00/start", 400},   // libsoup refuses the NUL itself
      {"POST", "/api/v1/recordings/a%20b/stop", 400},
      {"POST", "/api/v1/recordings/plain/start", 409},  // shared=false: a pipeline per viewer
      {"GET", "/api/v1/recordings/cam/start", 405},
      {"DELETE", "/api/v1/paths", 405},
      {"POST", "/metrics", 405},
      {"GET", "/api/v1/nothing", 404},
      {"GET", "/dashboard/nope.js", 404},
      {"GET", "/dashboard/sub/index.html", 404},
      {"POST", "/", 405},
      {"GET", "/api/v1/recordings/cam", 404},
  };
  for (const auto& c : cases) {
    HttpReply r = http_request(c.method, srv_->http_url(c.path));
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.path << ": " << r.body << r.error;
    if (r.status == 405) {
      EXPECT_FALSE(r.allow.empty()) << c.path;
    }
    // Our answers carry a JSON reason (libsoup's own 400 for a NUL has none).
    if (std::string(c.path).find("%00") == std::string::npos) {
      auto doc = parse_json(r.body);
      ASSERT_TRUE(doc) << c.path << ": " << r.body;
      EXPECT_FALSE(json_string(json_node_get_object(doc.get()), "error").empty()) << r.body;
    }
  }
  // Garbage on the socket: the server answers 400 or closes, and goes on.
  {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(srv_->http_port());
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    const char junk[] = "\x01\x02 nonsense\r\n\r\n";
    ASSERT_GT(write(fd, junk, sizeof junk - 1), 0);
    char buf[256];
    struct timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n > 0) {
      buf[n] = 0;
      EXPECT_NE(std::string(buf).find(" 400 "), std::string::npos) << buf;
    }
    close(fd);
  }
  EXPECT_TRUE(srv_->alive());
  EXPECT_EQ(http_get(srv_->http_url("/api/v1/paths")).status, 200u);
  EXPECT_EQ(http_get(srv_->http_url("/metrics")).status, 200u);
}

TEST(HttpApiStart, PortInUseIsAStartError) {
  uint16_t port = 0;
  int fd = listening_socket(port);
  const std::string busy = std::to_string(port);
  RunResult r = run({build_path("src/gst-mediaserver"), "-a", "127.0.0.1", "-p", "0", "--http-port",
                     busy, "--mount", std::string("/a=") + kMjpeg},
                    20s);
  close(fd);
  EXPECT_EQ(r.exit_status, 2) << r.err;
  EXPECT_NE(r.err.find("http-port: cannot listen on 127.0.0.1:" + busy), std::string::npos) << r.err;
}

}  // namespace
}  // namespace gms::test
