// Users on the real server with real clients: roles against methods,
// Digest (ffprobe, rtspsrc, ffmpeg publishing) and Basic, replayed and stale
// nonces, brute force slowed per address while a viewer plays, SIGHUP
// removing a user, --add-user/--remove-user, the HTTP API, and no password
// in any log or answer.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "child.h"
#include "digest.h"
#include "pipelines.h"
#include "process.h"
#include "rtsp_raw.h"
#include "viewer.h"

namespace gms::test {
namespace {

// Passwords chosen to be found by a grep if they ever leak.
const char kAlicePw[] = "AlicePw-7f3a9";   // read:/*
const char kBobPw[] = "BobPw-c41d2";       // publish:/live/*
const char kRootPw[] = "RootPw-9e0b1";     // admin:/*
const char kBackendPw[] = "BackendPw-5d6e";  // in a proxy URL

void add_user(const std::string& file, const std::string& name, const std::string& pw,
              const std::string& roles) {
  RunResult r = run_add_user(file, name, pw, roles);
  ASSERT_EQ(r.exit_status, 0) << r.out << r.err;
}

std::string users_file() {
  std::string f = write_temp_file("users", "");
  add_user(f, "alice", kAlicePw, "read:/*");
  add_user(f, "bob", kBobPw, "publish:/live/*");
  add_user(f, "root", kRootPw, "admin:/*");
  return f;
}

// One request with Digest on connection `c`: unauthenticated first, then
// with the credentials for the nonce of the 401. `auth_out` gets the header.
RtspReply with_digest(RawRtsp& c, int& cseq, const std::string& method, const std::string& url,
                      const std::string& user, const std::string& pw,
                      const std::string& headers = "", std::string* auth_out = nullptr) {
  RtspReply first = c.request(rtsp_request(method, url, cseq++, "", headers));
  if (first.status != 401)
    return first;
  std::string a = digest_header(user, pw, method, url,
                                challenge_param(first.header("WWW-Authenticate"), "nonce"));
  if (auth_out)
    *auth_out = a;
  return c.request(rtsp_request(method, url, cseq++, "", headers + a));
}

class Auth : public ::testing::Test {
 protected:
  void start(const std::string& extra_conf = "", bool http = false) {
    users = users_file();
    conf = write_temp_file(
        "site.conf", "[server]\nusers=" + users + "\n" + extra_conf + "[path /test]\nlaunch=" +
                         std::string(kH264Opus) + "\n[path /live/*]\npublish=true\n");
    srv = std::make_unique<ServerProcess>(std::vector<std::string>{"-v", conf}, true, 0,
                                          std::vector<std::string>{}, http);
    ASSERT_TRUE(srv->ready()) << srv->log_tail();
  }
  void TearDown() override {
    if (!srv)
      return;
    // No password, in any form we were given it, in the server's log.
    std::string log = srv->log();
    for (const char* pw : {kAlicePw, kBobPw, kRootPw, kBackendPw})
      EXPECT_EQ(log.find(pw), std::string::npos) << pw << " in the log:\n" << srv->log_tail(60);
    EXPECT_TRUE(srv->alive()) << srv->log_tail();
  }
  std::string users, conf;
  std::unique_ptr<ServerProcess> srv;
};

TEST_F(Auth, RolesAgainstMethods) {
  start();
  const std::string test = srv->url("/test");
  {
    RawRtsp c(srv->port());
    int cseq = 1;
    // Nothing is anonymous: 401 with a Digest challenge, no Basic without TLS.
    RtspReply anon = c.request(rtsp_request("DESCRIBE", test, cseq++, ""));
    EXPECT_EQ(anon.status, 401);
    EXPECT_NE(anon.header("WWW-Authenticate").find("Digest realm=\"gst-mediaserver\""),
              std::string::npos);
    EXPECT_EQ(anon.text.find("Basic"), std::string::npos) << anon.text;
    // OPTIONS stays open.
    EXPECT_EQ(c.request(rtsp_request("OPTIONS", test, cseq++, "")).status, 200);
  }
  {
    RawRtsp c(srv->port());
    int cseq = 1;
    EXPECT_EQ(with_digest(c, cseq, "DESCRIBE", test, "alice", "wrong-password").status, 401);
  }
  {
    RawRtsp c(srv->port());
    int cseq = 1;
    EXPECT_EQ(with_digest(c, cseq, "DESCRIBE", test, "alice", kAlicePw).status, 200);
    // A reader may not set up a stream to publish, nor RECORD.
    EXPECT_EQ(with_digest(c, cseq, "SETUP", test + "/stream=0", "alice", kAlicePw,
                          "Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record\r\n")
                  .status,
              403);
    EXPECT_EQ(with_digest(c, cseq, "RECORD", srv->url("/live/x"), "alice", kAlicePw).status, 403);
    EXPECT_EQ(with_digest(c, cseq, "ANNOUNCE", srv->url("/live/x"), "alice", kAlicePw,
                          "Content-Type: application/sdp\r\n")
                  .status,
              403);
  }
  {
    RawRtsp c(srv->port());
    int cseq = 1;
    // A publisher may not watch a path it has no read role on.
    EXPECT_EQ(with_digest(c, cseq, "DESCRIBE", test, "bob", kBobPw).status, 403);
    EXPECT_EQ(with_digest(c, cseq, "DESCRIBE", srv->url("/live/x"), "bob", kBobPw).status, 403);
  }
  // Real clients with user:password in the URL: ffprobe plays as alice.
  RunResult probe = run({"ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
                         "stream=codec_name", "-of", "csv=p=0",
                         "rtsp://alice:" + std::string(kAlicePw) + "@127.0.0.1:" +
                             std::to_string(srv->port()) + "/test"},
                        30s);
  EXPECT_EQ(probe.exit_status, 0) << probe.err;
  EXPECT_NE(probe.out.find("h264"), std::string::npos) << probe.out;
  // ffmpeg publishes as bob, not as alice.
  const std::string live = "127.0.0.1:" + std::to_string(srv->port()) + "/live/cam";
  Child refused(ffmpeg_publisher("rtsp://alice:" + std::string(kAlicePw) + "@" + live, "tcp", 10));
  EXPECT_NE(refused.wait(20000), 0);
  Child pub(ffmpeg_publisher("rtsp://bob:" + std::string(kBobPw) + "@" + live, "tcp", 30));
  ASSERT_TRUE(wait_until(
      [&] {
        RawRtsp c(srv->port());
        int cseq = 1;
        return with_digest(c, cseq, "DESCRIBE", srv->url("/live/cam"), "alice", kAlicePw).status ==
               200;
      },
      20s))
      << srv->log_tail();
  // alice (read:/*) watches it with rtspsrc, credentials in the URL.
  Viewer v("rtsp://alice:" + std::string(kAlicePw) + "@" + live, "tcp");
  EXPECT_TRUE(wait_until([&] { return v.video_frames() > 10; }, 20s)) << v.state();
}

TEST_F(Auth, ReplayedAndStaleNonces) {
  start("nonce-lifetime=2\n");
  const std::string test = srv->url("/test");
  RawRtsp a(srv->port());
  int cseq = 1;
  std::string captured;
  ASSERT_EQ(with_digest(a, cseq, "DESCRIBE", test, "alice", kAlicePw, "", &captured).status, 200);
  // The same header on a second connection: its nonce was not issued there.
  RawRtsp b(srv->port());
  RtspReply replay = b.request(rtsp_request("DESCRIBE", test, 1, "", captured));
  EXPECT_EQ(replay.status, 401);
  EXPECT_NE(replay.header("WWW-Authenticate").find("stale=true"), std::string::npos)
      << replay.text;
  // Another method with the captured response: wrong digest.
  RtspReply other = a.request(rtsp_request("SETUP", test + "/stream=0", cseq++, "",
                                           "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n" +
                                               captured));
  EXPECT_EQ(other.status, 401);
  // The nonce expires (2 s here): the same header becomes stale.
  RtspReply stale;
  EXPECT_TRUE(wait_until(
      [&] {
        stale = a.request(rtsp_request("DESCRIBE", test, cseq++, "", captured));
        return stale.status == 401;
      },
      10s));
  EXPECT_NE(stale.header("WWW-Authenticate").find("stale=true"), std::string::npos) << stale.text;
  // The fresh nonce of that answer works.
  std::string fresh = challenge_param(stale.header("WWW-Authenticate"), "nonce");
  EXPECT_EQ(a.request(rtsp_request("DESCRIBE", test, cseq++, "",
                                   digest_header("alice", kAlicePw, "DESCRIBE", test, fresh)))
                .status,
            200);
}

std::string basic_header(const std::string& user, const std::string& pw) {
  std::string plain = user + ":" + pw;
  gchar* b64 = g_base64_encode(reinterpret_cast<const guchar*>(plain.data()), plain.size());
  std::string h = std::string("Authorization: Basic ") + b64 + "\r\n";
  g_free(b64);
  return h;
}

TEST_F(Auth, BasicRefusedWithoutTls) {
  start();
  RawRtsp c(srv->port());
  RtspReply r = c.request(rtsp_request("DESCRIBE", srv->url("/test"), 1, "",
                                       basic_header("alice", kAlicePw)));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.text.find("Basic realm"), std::string::npos) << r.text;
}

TEST_F(Auth, BasicAllowedInPlaintextWhenConfigured) {
  start("allow-basic-plaintext=true\n");
  RawRtsp c(srv->port());
  RtspReply challenge = c.request(rtsp_request("DESCRIBE", srv->url("/test"), 1, ""));
  EXPECT_NE(challenge.text.find("Basic realm=\"gst-mediaserver\""), std::string::npos);
  EXPECT_EQ(c.request(rtsp_request("DESCRIBE", srv->url("/test"), 2, "",
                                   basic_header("alice", kAlicePw)))
                .status,
            200);
  RawRtsp d(srv->port());
  EXPECT_EQ(d.request(rtsp_request("DESCRIBE", srv->url("/test"), 1, "",
                                   basic_header("alice", "nope")))
                .status,
            401);
}

TEST_F(Auth, AnonymousReadWhereConfigured) {
  users = users_file();
  conf = write_temp_file("site.conf", "[server]\nusers=" + users + "\n[path /open]\nlaunch=" +
                                          std::string(kMjpeg) + "\nanonymous=read\n[path /closed]\nlaunch=" +
                                          std::string(kMjpeg) + "\n");
  srv = std::make_unique<ServerProcess>(std::vector<std::string>{conf});
  ASSERT_TRUE(srv->ready()) << srv->log_tail();
  RawRtsp c(srv->port());
  EXPECT_EQ(c.request(rtsp_request("DESCRIBE", srv->url("/open"), 1, "")).status, 200);
  EXPECT_EQ(c.request(rtsp_request("DESCRIBE", srv->url("/closed"), 2, "")).status, 401);
}

// 1,000 wrong passwords from one address, 100 connections at a time each
// guessing in turn, against one valid viewer from the same address.
TEST_F(Auth, BruteForceSlowedViewerPlays) {
  start();
  const std::string test = srv->url("/test");
  Viewer viewer("rtsp://alice:" + std::string(kAlicePw) + "@127.0.0.1:" +
                    std::to_string(srv->port()) + "/test",
                "tcp");
  ASSERT_TRUE(wait_until([&] { return viewer.video_frames() > 10; }, 20s)) << viewer.state();

  constexpr int kGuesses = 1000, kWorkers = 100;
  // Runs kGuesses Digest exchanges as `user`/`password-N`, kWorkers
  // connections at a time, one exchange per connection; counts the answers.
  struct Tally {
    std::atomic<int> refused{0}, forbidden{0}, accepted{0}, unanswered{0};
  };
  auto attack = [&](const std::string& user, bool numbered_pw, const std::string& pw,
                    Tally& tally) {
    std::atomic<int> next{0};
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int w = 0; w < kWorkers; ++w)
      threads.emplace_back([&] {
        for (int i; (i = next++) < kGuesses;) {
          RawRtsp c(srv->port());
          int cseq = 1;
          RtspReply r = with_digest(c, cseq, "DESCRIBE", test, user,
                                    numbered_pw ? pw + std::to_string(i) : pw);
          (r.status == 401   ? tally.refused
           : r.status == 403 ? tally.forbidden
           : r.status == 0   ? tally.unanswered
                             : tally.accepted)++;
        }
      });
    for (auto& t : threads)
      t.join();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  // Full speed: the same exchanges with a right password for a user
  // without the role (403, no failure counted).
  Tally base;
  double full_speed = attack("bob", false, kBobPw, base);
  EXPECT_EQ(base.forbidden, kGuesses);

  unsigned frames_before = viewer.video_frames();
  Tally guesses;
  double seconds = attack("alice", true, "guess-", guesses);
  unsigned frames_after = viewer.video_frames();
  printf("1000 Digest exchanges, %d connections at a time: right password %.2f s, "
         "wrong passwords %.1f s (%d refused, %d unanswered)\n",
         kWorkers, full_speed, seconds, int(guesses.refused), int(guesses.unanswered));
  EXPECT_EQ(guesses.accepted + guesses.forbidden, 0);
  EXPECT_EQ(guesses.refused + guesses.unanswered, kGuesses);
  // With the penalty (up to 2 s per answer, 100 waiting at a time) the
  // guesses take ≥ 18 s; at full speed a few seconds at most.
  EXPECT_GT(seconds, 12.0);
  EXPECT_GT(seconds, 4 * full_speed);
  // The viewer kept playing meanwhile (30 fps).
  EXPECT_GT(frames_after, frames_before + unsigned(seconds * 10)) << viewer.state();
  EXPECT_TRUE(viewer.error().empty()) << viewer.error();
  EXPECT_EQ(count_occurrences(srv->log(), "its refusals are now delayed"), 1u) << srv->log_tail();
}

TEST_F(Auth, SighupRemovingUserEndsItsSession) {
  start("", true);
  Viewer viewer("rtsp://alice:" + std::string(kAlicePw) + "@127.0.0.1:" +
                    std::to_string(srv->port()) + "/test",
                "tcp");
  ASSERT_TRUE(wait_until([&] { return viewer.video_frames() > 10; }, 20s)) << viewer.state();
  // The sessions API names the session's user.
  RunResult sessions = run({"curl", "-s", "--digest", "-u", std::string("root:") + kRootPw,
                            srv->http_url("/api/v1/sessions")},
                           20s);
  EXPECT_NE(sessions.out.find("\"user\" : \"alice\""), std::string::npos) << sessions.out;
  RunResult rm = run({build_path("src/gst-mediaserver"), "--users", users, "--remove-user", "alice"},
                     20s);
  ASSERT_EQ(rm.exit_status, 0) << rm.err;
  srv->signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return srv->log_contains("closed 1 connection"); }, 10s))
      << srv->log_tail();
  // Its frames stop.
  unsigned frames = 0;
  EXPECT_TRUE(wait_until(
      [&] {
        unsigned now = viewer.video_frames();
        bool still = now != frames;
        frames = now;
        return !still;
      },
      10s));
  RawRtsp c(srv->port());
  int cseq = 1;
  EXPECT_EQ(with_digest(c, cseq, "DESCRIBE", srv->url("/test"), "alice", kAlicePw).status, 401);
}

TEST(AuthTool, AddAndRemoveUserRoundTrip) {
  std::string f = write_temp_file("users", "");
  add_user(f, "carol", "CarolPw-1", "read:/cam1,publish:/live/*");
  struct stat st {};
  ASSERT_EQ(stat(f.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  gchar* text = nullptr;
  ASSERT_TRUE(g_file_get_contents(f.c_str(), &text, nullptr, nullptr));
  std::string contents = text;
  g_free(text);
  EXPECT_NE(contents.find("[user carol]"), std::string::npos);
  EXPECT_NE(contents.find("roles=read:/cam1,publish:/live/*"), std::string::npos);
  EXPECT_EQ(contents.find("CarolPw-1"), std::string::npos);
  const std::string bin = build_path("src/gst-mediaserver");
  EXPECT_EQ(run({bin, "--users", f, "--remove-user", "carol"}, 20s).exit_status, 0);
  EXPECT_NE(run({bin, "--users", f, "--remove-user", "carol"}, 20s).exit_status, 0);
  RunResult bad = run({"sh", "-c", "echo pw | \"$0\" --users \"$1\" --add-user x --roles fly:/*",
                       bin, f},
                      20s);
  EXPECT_NE(bad.exit_status, 0);
  EXPECT_NE(bad.err.find("--roles"), std::string::npos) << bad.err;
}

TEST_F(Auth, HttpApiNeedsUsers) {
  start("", true);
  auto curl = [&](const std::vector<std::string>& extra, const std::string& path) {
    std::vector<std::string> argv = {"curl", "-s", "-o", "/dev/stderr", "-w", "%{http_code}",
                                     "--max-time", "10"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(srv->http_url(path));
    RunResult r = run(argv, 20s);
    for (const char* pw : {kAlicePw, kBobPw, kRootPw})
      EXPECT_EQ(r.err.find(pw), std::string::npos) << "API answer holds a password";
    return r.out;
  };
  EXPECT_EQ(curl({}, "/api/v1/paths"), "401");
  EXPECT_EQ(curl({}, "/metrics"), "401");
  EXPECT_EQ(curl({"--digest", "-u", std::string("alice:") + kAlicePw}, "/api/v1/paths"), "200");
  EXPECT_EQ(curl({"--digest", "-u", std::string("alice:") + kAlicePw}, "/metrics"), "200");
  EXPECT_EQ(curl({"--digest", "-u", "alice:wrong"}, "/api/v1/paths"), "401");
  // Basic over plain HTTP is not offered.
  EXPECT_EQ(curl({"--basic", "-u", std::string("alice:") + kAlicePw}, "/api/v1/paths"), "401");
  // Changing things needs admin.
  EXPECT_EQ(curl({"--digest", "-u", std::string("alice:") + kAlicePw, "-X", "POST"},
                 "/api/v1/recordings/test/start"),
            "403");
  EXPECT_EQ(curl({"--digest", "-u", std::string("bob:") + kBobPw}, "/api/v1/paths"), "403");
  std::string admin = curl({"--digest", "-u", std::string("root:") + kRootPw, "-X", "POST"},
                           "/api/v1/recordings/test/start");
  EXPECT_NE(admin, "401");
  EXPECT_NE(admin, "403");
  RunResult metrics = run({"curl", "-s", "--digest", "-u", std::string("alice:") + kAlicePw,
                           srv->http_url("/metrics")},
                          20s);
  // The wrong Digest password and the refused Basic at least.
  auto at = metrics.out.find("\ngms_auth_failures_total ");
  ASSERT_NE(at, std::string::npos) << metrics.out;
  EXPECT_GE(atoi(metrics.out.c_str() + at + 25), 2) << metrics.out;
}

TEST(AuthConfig, ApiOffLoopbackNeedsUsers) {
  std::string conf = write_temp_file("site.conf",
                                     "[server]\nhttp-address=0.0.0.0\n[path /t]\nlaunch=" +
                                         std::string(kMjpeg) + "\n");
  RunResult r = run({build_path("src/gst-mediaserver"), "--check", conf}, 20s);
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("http-address"), std::string::npos) << r.err;
}

TEST(AuthSecrets, BackendPasswordNeverLogged) {
  // A back end that is not there: the proxy logs its attempts, verbosely.
  uint16_t dead = free_port();
  std::string url = "rtsp://cam:" + std::string(kBackendPw) + "@127.0.0.1:" +
                    std::to_string(dead) + "/stream";
  ServerProcess srv({"-V", "--proxy", url});
  ASSERT_TRUE(srv.ready()) << srv.log_tail();
  RawRtsp c(srv.port());
  c.request(rtsp_request("DESCRIBE", srv.url("/proxyStream"), 1, ""));
  ASSERT_TRUE(wait_until([&] { return srv.log_contains("cam:***@") || srv.log().size() > 2000; },
                         10s));
  EXPECT_EQ(srv.log().find(kBackendPw), std::string::npos) << srv.log_tail(60);
}

// REGISTER (-R) with users: a user with publish may, a reader may not.
TEST(AuthRegister, NeedsPublishOrAdmin) {
  std::string users = users_file();
  ServerProcess srv({"-R", "--users", users});
  ASSERT_TRUE(srv.ready()) << srv.log_tail();
  const std::string url = "rtsp://127.0.0.1:" + std::to_string(free_port()) + "/cam";
  auto reg = [&](int cseq, const std::string& extra) {
    return rtsp_request("REGISTER", url, cseq, "",
                        "Transport: preferred_delivery_protocol=interleaved;proxy_url_suffix=regd\r\n" +
                            extra);
  };
  RawRtsp c(srv.port());
  RtspReply first = c.request(reg(1, ""));
  ASSERT_EQ(first.status, 401) << first.text;
  std::string nonce = challenge_param(first.header("WWW-Authenticate"), "nonce");
  EXPECT_EQ(c.request(reg(2, digest_header("alice", kAlicePw, "REGISTER", url, nonce))).status, 401);
  EXPECT_EQ(c.request(reg(3, digest_header("bob", "wrong", "REGISTER", url, nonce))).status, 401);
  EXPECT_EQ(c.request(reg(4, digest_header("bob", kBobPw, "REGISTER", url, nonce))).status, 200);
  EXPECT_EQ(srv.log().find(kBobPw), std::string::npos);
}

// live555ProxyServer's -C USER PASS: every viewer needs them.
TEST(AuthLive555, ViewerCredentials) {
  ServerProcess srv({"-C", "viewer", "ViewerPw-42", "--mount", std::string("/t=") + kMjpeg});
  ASSERT_TRUE(srv.ready()) << srv.log_tail();
  RawRtsp c(srv.port());
  int cseq = 1;
  EXPECT_EQ(c.request(rtsp_request("DESCRIBE", srv.url("/t"), cseq++, "")).status, 401);
  EXPECT_EQ(with_digest(c, cseq, "DESCRIBE", srv.url("/t"), "viewer", "ViewerPw-42").status, 200);
  EXPECT_EQ(srv.log().find("ViewerPw-42"), std::string::npos);
}

}  // namespace
}  // namespace gms::test
