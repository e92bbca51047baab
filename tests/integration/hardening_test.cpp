// Hostile requests: each refused, the
// server and other viewers unaffected.
#include <gtest/gtest.h>

#include <set>

#include "pipelines.h"
#include "process.h"
#include "rtsp_raw.h"
#include "viewer.h"

namespace gms::test {
namespace {

struct Session {
  std::string id;
  RtspReply setup;
};

// DESCRIBE + SETUP of stream 0 over TCP on `c`.
Session setup_tcp(RawRtsp& c, const std::string& base) {
  RtspReply d = c.request("DESCRIBE " + base + " RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n");
  EXPECT_EQ(d.status, 200) << d.text;
  Session s;
  s.setup = c.request("SETUP " + base + "/stream=0 RTSP/1.0\r\nCSeq: 2\r\n"
                      "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n");
  EXPECT_EQ(s.setup.status, 200) << s.setup.text;
  s.id = s.setup.header("Session");
  s.id = s.id.substr(0, s.id.find(';'));
  return s;
}

class Hardening : public testing::Test {
 protected:
  void SetUp() override {
    srv_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--mount", std::string("/a=") + kMjpeg});
    ASSERT_TRUE(srv_->ready());
  }
  std::unique_ptr<ServerProcess> srv_;
};

TEST_F(Hardening, SessionBelongsToItsConnection) {
  RawRtsp owner(srv_->port()), other(srv_->port());
  Session s = setup_tcp(owner, srv_->url("/a"));
  for (const char* method : {"PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER"}) {
    RtspReply r = other.request(std::string(method) + " " + srv_->url("/a") +
                                " RTSP/1.0\r\nCSeq: 5\r\nSession: " + s.id + "\r\n\r\n");
    EXPECT_EQ(r.status, 454) << method << ": " << r.text;
  }
  RtspReply mine = owner.request("GET_PARAMETER " + srv_->url("/a") +
                                 " RTSP/1.0\r\nCSeq: 3\r\nSession: " + s.id + "\r\n\r\n");
  EXPECT_EQ(mine.status, 200) << mine.text;
  RtspReply play = owner.request("PLAY " + srv_->url("/a") + " RTSP/1.0\r\nCSeq: 4\r\nSession: " +
                                 s.id + "\r\n\r\n");
  EXPECT_EQ(play.status, 200) << play.text;
}

TEST_F(Hardening, SessionIdsAreLongAndUnique) {
  std::set<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    RawRtsp c(srv_->port());
    Session s = setup_tcp(c, srv_->url("/a"));
    EXPECT_TRUE(g_regex_match_simple("^[0-9a-f]{32}$", s.id.c_str(), GRegexCompileFlags(0),
                                     GRegexMatchFlags(0)))
        << s.id;
    ids.insert(s.id);
  }
  EXPECT_EQ(ids.size(), 20u);
}

TEST_F(Hardening, BadRangeScaleSpeedRefused) {
  struct Case {
    const char* header;
    int status;
  } cases[] = {{"Range: npt=abc-", 457},     {"Range: npt=-5--1", 457},
               {"Range: npt=20-10", 457},     {"Range: smpte=99:99:99-", 457},
               {"Scale: 0", 400},             {"Scale: nan", 400},
               {"Scale: -1e308", 400},        {"Speed: -1", 400}};
  for (const auto& c : cases) {
    RawRtsp conn(srv_->port());
    Session s = setup_tcp(conn, srv_->url("/a"));
    RtspReply r = conn.request("PLAY " + srv_->url("/a") + " RTSP/1.0\r\nCSeq: 3\r\nSession: " +
                               s.id + "\r\n" + c.header + "\r\n\r\n");
    EXPECT_EQ(r.status, c.status) << c.header << ": " << r.text;
  }
  Viewer v(srv_->url("/a"), "udp");
  EXPECT_TRUE(wait_until([&] { return v.video_frames() >= 5; }, 20s));
}

TEST_F(Hardening, RangeOnSharedLivePathDoesNotRestartIt) {
  Viewer first(srv_->url("/a"), "tcp");
  ASSERT_TRUE(wait_until([&] { return first.video_frames() >= 15; }, 20s));
  for (int i = 0; i < 3; ++i) {
    RawRtsp c(srv_->port());
    Session s = setup_tcp(c, srv_->url("/a"));
    RtspReply r = c.request("PLAY " + srv_->url("/a") + " RTSP/1.0\r\nCSeq: 3\r\nSession: " +
                            s.id + "\r\nRange: npt=0.000-\r\n\r\n");
    EXPECT_EQ(r.status, 200) << r.text;
  }
  unsigned before = first.video_frames();
  EXPECT_TRUE(wait_until([&] { return first.video_frames() >= before + 15; }, 20s));
  EXPECT_FALSE(first.pts_went_back());
  EXPECT_EQ(first.error(), "");
}

TEST_F(Hardening, HugeContentLengthRefused) {
  RawRtsp c(srv_->port());
  RtspReply r = c.request("SET_PARAMETER " + srv_->url("/a") +
                          " RTSP/1.0\r\nCSeq: 1\r\nContent-Type: text/parameters\r\n"
                          "Content-Length: 4294967295\r\n\r\nx",
                          5s);
  // The connection is refused or closed at once, never left waiting for 4 GB.
  EXPECT_NE(r.status, 200) << r.text;
  Viewer v(srv_->url("/a"), "tcp");
  EXPECT_TRUE(wait_until([&] { return v.video_frames() >= 5; }, 20s));
}

}  // namespace
}  // namespace gms::test
