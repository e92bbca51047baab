// Cost of users on a viewer's start: DESCRIBE + SETUP + PLAY on a fresh
// connection, anonymous and with Digest (the 401 round trip included),
// alternated, 100 of each, medians and their ratio.
//   meson test -C build --benchmark auth -v     (prints the figures)
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "auth/crypto.h"
#include "pipelines.h"
#include "process.h"
#include "rtsp_raw.h"

namespace gms::test {
namespace {

const char kPw[] = "BenchPw-31";

std::string digest(const std::string& method, const std::string& uri, const std::string& nonce) {
  std::string ha1 = auth::digest_ha1("viewer", "gst-mediaserver", kPw);
  return "Authorization: Digest username=\"viewer\", realm=\"gst-mediaserver\", nonce=\"" + nonce +
         "\", uri=\"" + uri + "\", response=\"" +
         auth::md5_hex(ha1 + ":" + nonce + ":" + auth::md5_hex(method + ":" + uri)) + "\"\r\n";
}

// One viewer's start; ms until the PLAY answer, or -1.
double start_ms(const ServerProcess& srv, const std::string& path, bool with_user) {
  auto t0 = std::chrono::steady_clock::now();
  RawRtsp c(srv.port());
  int cseq = 1;
  const std::string url = srv.url(path);
  std::string nonce;
  auto send = [&](const std::string& method, const std::string& target, std::string headers,
                  const std::string& session) {
    if (with_user && !nonce.empty())
      headers += digest(method, target, nonce);
    return c.request(rtsp_request(method, target, cseq++, session, headers));
  };
  RtspReply d = send("DESCRIBE", url, "", "");
  if (with_user && d.status == 401) {
    std::string h = d.header("WWW-Authenticate");
    auto b = h.find("nonce=\"") + 7;
    nonce = h.substr(b, h.find('"', b) - b);
    d = send("DESCRIBE", url, "", "");
  }
  if (d.status != 200)
    return -1;
  RtspReply s = send("SETUP", url + "/stream=0",
                     "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n", "");
  std::string session = s.header("Session");
  session = session.substr(0, session.find(';'));
  if (s.status != 200 || session.empty())
    return -1;
  RtspReply p = send("PLAY", url, "", session);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                  .count();
  send("TEARDOWN", url, "", session);
  return p.status == 200 ? ms : -1;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

TEST(Bench, DigestPlayAgainstAnonymous) {
  std::string users = write_temp_file("users", "");
  RunResult add = run({"sh", "-c", "printf '%s\\n' \"$0\" | \"$1\" --users \"$2\" --add-user viewer --roles read:/*",
                       kPw, build_path("src/gst-mediaserver"), users},
                      20s);
  ASSERT_EQ(add.exit_status, 0) << add.err;
  std::string conf = write_temp_file(
      "site.conf", "[server]\nusers=" + users + "\n[path /open]\nlaunch=" + std::string(kMjpeg) +
                       "\nalways-on=true\nanonymous=read\n[path /closed]\nlaunch=" +
                       std::string(kMjpeg) + "\nalways-on=true\n");
  ServerProcess srv({conf});
  ASSERT_TRUE(srv.ready()) << srv.log_tail();
  // Both lines running before the clock starts.
  ASSERT_TRUE(wait_until([&] { return start_ms(srv, "/open", false) > 0; }, 20s));
  ASSERT_TRUE(wait_until([&] { return start_ms(srv, "/closed", true) > 0; }, 20s));
  const int kRuns = 100;
  std::vector<double> anon, user;
  for (int i = 0; i < kRuns; ++i) {
    double a = start_ms(srv, "/open", false), u = start_ms(srv, "/closed", true);
    ASSERT_GT(a, 0);
    ASSERT_GT(u, 0);
    anon.push_back(a);
    user.push_back(u);
  }
  printf("\nDESCRIBE+SETUP+PLAY on a new connection, median of %d (loopback):\n", kRuns);
  printf("  anonymous %.2f ms, Digest %.2f ms, ratio %.2f\n", median(anon), median(user),
         median(user) / median(anon));
}

}  // namespace
}  // namespace gms::test
