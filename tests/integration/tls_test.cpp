// Encryption end to end with real clients: RTSPS beside plain RTSP on one
// path (ffprobe and rtspsrc checking the CA), require-tls, SRTP with MIKEY
// keys, RTSP over HTTP on an extra port (rtspsrc and a raw GET/POST pair),
// rtsps:// back ends of the proxy, and the HTTP API over HTTPS. The
// certificates are made at test time with openssl.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <memory>

#include "child.h"
#include "pipelines.h"
#include "process.h"
#include "publish_raw.h"
#include "rtsp_raw.h"
#include "tls_fixtures.h"
#include "viewer.h"

namespace gms::test {
namespace {

const char kH264[] =
    "videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 ! "
    "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! "
    "rtph264pay name=pay0 pt=96 config-interval=-1";

class Tls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string why;
    certs_ = new TestCerts(make_test_certs(why));
    if (certs_->dir.empty())
      FAIL() << why;
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }
  void SetUp() override { ASSERT_FALSE(certs_->dir.empty()); }

  // A server with RTSPS on its own free port; `conf` holds the paths.
  // `cert`: another certificate than the CA's for 127.0.0.1 (same key).
  std::unique_ptr<ServerProcess> start(const std::string& conf,
                                       std::vector<std::string> extra = {},
                                       bool http_api = false, const std::string& cert = "") {
    tls_port_ = free_port();
    std::vector<std::string> args = {"--tls-cert", cert.empty() ? certs_->cert : cert,
                                     "--tls-key", certs_->key,
                                     "--tls-port", std::to_string(tls_port_),
                                     write_temp_file("tls.conf", conf)};
    args.insert(args.end(), extra.begin(), extra.end());
    auto srv = std::make_unique<ServerProcess>(args, true, 0, std::vector<std::string>{},
                                               http_api);
    EXPECT_TRUE(srv->ready()) << srv->log_tail();
    return srv;
  }
  std::string tls_url(const std::string& path) const {
    return "rtsps://127.0.0.1:" + std::to_string(tls_port_) + path;
  }

  static TestCerts* certs_;
  uint16_t tls_port_ = 0;
};
TestCerts* Tls::certs_ = nullptr;

std::string launch_conf(const std::string& name, const std::string& extra = "") {
  return "[path " + name + "]\nlaunch=" + kH264 + "\n" + extra;
}

bool frames_arrive(const TlsViewer& v, unsigned n = 10, std::chrono::milliseconds t = 30s) {
  return wait_until([&] { return v.frames() >= n || !v.error().empty(); }, t) && v.frames() >= n;
}

TEST_F(Tls, BadCertificateOrKeyStopsTheStart) {
  auto bad = [&](std::vector<std::string> args, const std::string& expect) {
    args.insert(args.begin(), {build_path("src/gst-mediaserver"), "--check", "--http-port", "0"});
    RunResult r = run(args, 30s);
    EXPECT_EQ(r.exit_status, 2) << r.out << r.err;
    EXPECT_NE(r.err.find(expect), std::string::npos) << r.err;
  };
  bad({"--tls-cert", "/nonexistent/cert.pem"}, "tls-cert: '/nonexistent/cert.pem' is not a file");
  // The CA's certificate with the server's key: they do not belong together.
  bad({"--tls-cert", certs_->ca, "--tls-key", certs_->key}, "does not belong to the certificate");
  // A certificate file without any key.
  bad({"--tls-cert", certs_->cert}, "holds no private key");
  bad({"--tls-key", certs_->key}, "tls-key: a key without a certificate");
  std::string conf = write_temp_file("r.conf", launch_conf("/x", "require-tls=true\n"));
  bad({conf}, "require-tls: no RTSPS to require");
  std::string proxy = write_temp_file(
      "p.conf", "[path /p]\nproxy=rtsps://127.0.0.1:1/x\nbackend-tls-ca=" + certs_->key + "\n");
  bad({proxy}, "backend-tls-ca: cannot read the CA certificates");
}

// ffprobe over RTSPS. ffmpeg 5.1's RTSP demuxer does not hand -ca_file and
// -tls_verify to its TLS layer (it plays with another CA's file as well), so
// the certificate checks are rtspsrc's and curl's below.
TEST_F(Tls, FfprobeReadsRtsps) {
  auto srv = start(launch_conf("/cam"));
  RunResult r = run({"ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
                     "stream=codec_name", "-of", "csv=p=0", tls_url("/cam")},
                    40s);
  EXPECT_EQ(r.exit_status, 0) << r.err << srv->log_tail();
  EXPECT_NE(r.out.find("h264"), std::string::npos) << r.out << r.err;
}

// One path, a plain and a TLS viewer at once; the TLS one checks the CA.
TEST_F(Tls, PlainAndTlsViewersOfOnePath) {
  auto srv = start(launch_conf("/cam"));
  TlsViewer tls(tls_url("/cam"), certs_->ca);
  Viewer plain(srv->url("/cam"), "tcp");
  EXPECT_TRUE(frames_arrive(tls)) << tls.error() << srv->log_tail();
  EXPECT_TRUE(wait_until([&] { return plain.video_frames() >= 10; }, 30s)) << plain.state();
  EXPECT_TRUE(srv->alive());
}

// rtspsrc refuses a server whose certificate its CA did not sign: the
// check is real.
TEST_F(Tls, AnotherCaIsRefused) {
  auto srv = start(launch_conf("/cam"));
  TlsViewer v(tls_url("/cam"), certs_->other_ca);
  EXPECT_TRUE(wait_until([&] { return !v.error().empty(); }, 30s));
  EXPECT_EQ(v.frames(), 0u);
}

TEST_F(Tls, RequireTlsRefusesPlainRtsp) {
  auto srv = start(launch_conf("/secret", "require-tls=true\n") + launch_conf("/open") +
                       "[path /live/*]\npublish=true\nrequire-tls=true\n",
                   {"-v"});
  RawRtsp raw(srv->port());
  ASSERT_TRUE(raw.connected());
  RtspReply d = raw.request(rtsp_request("DESCRIBE", srv->url("/secret"), 1, ""));
  EXPECT_EQ(d.status, 403) << d.text;
  EXPECT_NE(d.text.find("RTSPS only"), std::string::npos) << d.text;
  RtspReply s = raw.request(rtsp_request("SETUP", srv->url("/secret") + "/stream=0", 2, "",
                                         "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"));
  EXPECT_EQ(s.status, 403) << s.text;
  // The same connection may still play other paths.
  RtspReply o = raw.request(rtsp_request("DESCRIBE", srv->url("/open"), 3, ""));
  EXPECT_EQ(o.status, 200) << o.text;
  // A plain publisher under a pattern that requires TLS.
  RawRtsp pub(srv->port());
  RtspReply a = pub.request(announce(srv->url("/live/a"), h264_sdp(), 1));
  EXPECT_EQ(a.status, 403) << a.text;
  TlsViewer v(tls_url("/secret"), certs_->ca);
  EXPECT_TRUE(frames_arrive(v)) << v.error() << srv->log_tail();
  EXPECT_TRUE(srv->log_contains("requires RTSPS"));
}

// Counts the packets this process's srtpdec could not unprotect (its
// warnings), while it lives.
class UnprotectedPackets {
 public:
  UnprotectedPackets() {
    gst_debug_set_threshold_for_name("srtpdec", GST_LEVEL_WARNING);
    gst_debug_add_log_function(on_log, this, nullptr);
  }
  ~UnprotectedPackets() { gst_debug_remove_log_function_by_data(this); }
  unsigned count() const { return count_; }

 private:
  static void on_log(GstDebugCategory* cat, GstDebugLevel level, const gchar*, const gchar*, gint,
                     GObject*, GstDebugMessage* message, gpointer self) noexcept {
    const char* text = gst_debug_message_get(message);
    if (level == GST_LEVEL_WARNING && g_str_equal(gst_debug_category_get_name(cat), "srtpdec") &&
        text && strstr(text, "Unable to unprotect"))
      ++static_cast<UnprotectedPackets*>(self)->count_;
  }
  std::atomic<unsigned> count_{0};
};

// SRTP: the SDP offers RTP/SAVP with the key in MIKEY; rtspsrc sets up
// SAVP, srtpdec decrypts with that key and the frames decode. ffprobe, which
// asks for plain RTP/AVP only, is refused: the packets are never plain. The
// second viewer joins the running media: it is sent no cached key frame (the
// relay's packets are plain until the media's RTP session encrypts them; it
// used to get them as they were, which its srtpdec could not unprotect, and
// now and then ended with "Internal data stream error").
TEST_F(Tls, SrtpRoundTrip) {
  UnprotectedPackets unprotected;
  auto srv = start(launch_conf("/srtp", "srtp=true\n"));
  RawRtsp raw(srv->port());
  RtspReply d = raw.request(rtsp_request("DESCRIBE", srv->url("/srtp"), 1, ""), 30s);
  EXPECT_EQ(d.status, 200) << d.text;
  EXPECT_NE(d.text.find("RTP/SAVP"), std::string::npos) << d.text;
  EXPECT_EQ(d.text.find("RTP/AVP "), std::string::npos) << d.text;
  EXPECT_NE(d.text.find("a=key-mgmt:mikey "), std::string::npos) << d.text;
  for (const char* proto : {"udp", "tcp"}) {
    TlsViewer v(tls_url("/srtp"), certs_->ca, proto);
    EXPECT_TRUE(frames_arrive(v)) << proto << ": " << v.error() << srv->log_tail();
  }
  EXPECT_EQ(unprotected.count(), 0u) << "packets the viewers could not unprotect";
  RunResult r = run({"ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of",
                     "csv=p=0", tls_url("/srtp")},
                    40s);
  EXPECT_NE(r.exit_status, 0) << r.out;
  EXPECT_NE(r.err.find("461"), std::string::npos) << r.err;
}

// An SRTP publisher (rtspclientsink asking for RTP/SAVP over RTSPS) and an
// SRTP viewer of its path; a plain RTP/AVP publisher is refused (415).
TEST_F(Tls, SrtpPublisherAndViewer) {
  auto srv = start("[path /pub]\npublish=true\nsrtp=true\n[path /pub2]\npublish=true\nsrtp=true\n");
  Child pub({"gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "!",
             "video/x-raw,width=320,height=240,framerate=30/1", "!", "x264enc",
             "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=15", "!",
             "rtspclientsink", "location=" + tls_url("/pub"), "profiles=savp", "protocols=tcp",
             "tls-validation-flags=0"});
  ASSERT_TRUE(wait_published(*srv, "/pub", 30000)) << pub.output() << srv->log_tail();
  TlsViewer v(tls_url("/pub"), certs_->ca, "udp");
  EXPECT_TRUE(frames_arrive(v)) << v.error() << srv->log_tail();
  // Plain RTP/AVP from a publisher: gst-rtsp-server refuses its SDP.
  RawRtsp raw(srv->port());
  RtspReply a = raw.request(announce(srv->url("/pub2"), h264_sdp(), 1));
  EXPECT_EQ(a.status, 415) << a.text;
}

TEST_F(Tls, HttpTunnelOnExtraPort) {
  uint16_t tunnel = free_port();
  auto srv = start(launch_conf("/cam"), {"--http-tunnel-port", std::to_string(tunnel)});
  TlsViewer v("rtsph://127.0.0.1:" + std::to_string(tunnel) + "/cam", "", "tcp");
  EXPECT_TRUE(frames_arrive(v)) << v.error() << srv->log_tail();
  // The RTSP port keeps its own tunnel.
  TlsViewer w("rtsph://127.0.0.1:" + std::to_string(srv->port()) + "/cam", "", "tcp");
  EXPECT_TRUE(frames_arrive(w)) << w.error() << srv->log_tail();
  // And the RTSPS port tunnels inside TLS (rtspsh://).
  TlsViewer x("rtspsh://127.0.0.1:" + std::to_string(tls_port_) + "/cam", certs_->ca, "tcp");
  EXPECT_TRUE(frames_arrive(x)) << x.error() << srv->log_tail();
}

// The two halves of a tunnel by hand: GET opens the reply channel, POST
// carries base64 requests; the answer to the POSTed OPTIONS comes on GET.
TEST_F(Tls, RawGetPostPairOnTunnelPort) {
  uint16_t tunnel = free_port();
  auto srv = start(launch_conf("/cam"), {"--http-tunnel-port", std::to_string(tunnel)});
  RawRtsp get(tunnel), post(tunnel);
  ASSERT_TRUE(get.connected() && post.connected());
  const std::string cookie = "x-sessioncookie: gmsTlsTest42\r\n";
  ASSERT_TRUE(get.send("GET /cam HTTP/1.0\r\n" + cookie +
                       "Accept: application/x-rtsp-tunnelled\r\n\r\n"));
  RtspReply g = get.read_reply(10s);
  EXPECT_NE(g.text.find("HTTP/1.0 200"), std::string::npos) << g.text;
  std::string options = "OPTIONS " + srv->url("/cam") + " RTSP/1.0\r\nCSeq: 7\r\n\r\n";
  GCharPtr b64(g_base64_encode(reinterpret_cast<const guchar*>(options.data()), options.size()));
  ASSERT_TRUE(post.send("POST /cam HTTP/1.0\r\n" + cookie +
                        "Content-Type: application/x-rtsp-tunnelled\r\n"
                        "Content-Length: 32767\r\n\r\n" + b64.get()));
  RtspReply o = get.read_reply(10s);
  EXPECT_EQ(o.status, 200) << o.text;
  EXPECT_EQ(o.header("CSeq"), "7") << o.text;
  EXPECT_NE(o.header("Public").find("DESCRIBE"), std::string::npos) << o.text;
}

// Our own server as an rtsps:// back end of another: checked against the
// CA, and with the check off; a back end whose CA is not given stays unread.
TEST_F(Tls, ProxiesRtspsBackEnds) {
  auto origin = start(launch_conf("/cam"));
  std::string backend = tls_url("/cam");
  std::string conf = "[path /ca]\nproxy=" + backend + "\nbackend-transport=tcp\nbackend-tls-ca=" +
                     certs_->ca + "\n[path /noverify]\nproxy=" + backend +
                     "\nbackend-transport=tcp\nbackend-tls-verify=false\n[path /unknown]\nproxy=" +
                     backend + "\nbackend-transport=tcp\nbackend-tls-ca=" + certs_->other_ca +
                     "\n";
  ServerProcess relay({write_temp_file("relay.conf", conf)});
  ASSERT_TRUE(relay.ready()) << relay.log_tail();
  Viewer ca(relay.url("/ca"), "tcp");
  Viewer noverify(relay.url("/noverify"), "tcp");
  EXPECT_TRUE(wait_until([&] { return ca.video_frames() >= 10; }, 40s))
      << ca.state() << relay.log_tail();
  EXPECT_TRUE(wait_until([&] { return noverify.video_frames() >= 10; }, 40s))
      << noverify.state() << relay.log_tail();
  Viewer unknown(relay.url("/unknown"), "tcp");
  EXPECT_TRUE(wait_until([&] { return !unknown.error().empty(); }, 40s)) << unknown.state();
  EXPECT_EQ(unknown.video_frames(), 0u);
}

// Back ends whose certificates must not be trusted as they are: signed by
// themselves, expired, for another host (each a server of ours). The proxy
// refuses each unless told to trust it (the self-signed one by naming it
// as the CA, the others by backend-tls-verify=false); a viewer of a refused
// one is answered 503 quickly, and the log says what was wrong with the
// certificate; a trusted one plays.
TEST_F(Tls, BadBackEndCertificatesAreRefusedUnlessTrusted) {
  BadCerts bad;
  std::string why;
  ASSERT_TRUE(make_bad_certs(*certs_, bad, why)) << why;
  struct Origin {
    std::string name, cert, trust, problem;
    std::unique_ptr<ServerProcess> srv;
    std::string url;
  };
  std::vector<Origin> origins;
  origins.push_back({"self", bad.self_signed, "backend-tls-ca=" + bad.self_signed,
                     "not signed by a trusted CA", {}, {}});
  origins.push_back({"expired", bad.expired, "backend-tls-verify=false", "expired", {}, {}});
  origins.push_back({"wronghost", bad.wrong_host, "backend-tls-verify=false", "not for this host", {}, {}});
  std::string conf;
  for (Origin& o : origins) {
    o.srv = start(launch_conf("/cam"), {}, false, o.cert);
    ASSERT_TRUE(o.srv->ready()) << o.srv->log_tail();
    o.url = tls_url("/cam");
    // Refused: the CA that signed the others (none for the self-signed
    // one: the system's then decide).
    conf += "[path /" + o.name + "]\nproxy=" + o.url + "\nbackend-transport=tcp\non-demand=true\n" +
            (o.name == "self" ? "" : "backend-tls-ca=" + certs_->ca + "\n");
    conf += "[path /" + o.name + "-trusted]\nproxy=" + o.url +
            "\nbackend-transport=tcp\non-demand=true\n" + o.trust + "\n";
  }
  ServerProcess relay({"-v", write_temp_file("relay.conf", conf)});
  ASSERT_TRUE(relay.ready()) << relay.log_tail();
  for (Origin& o : origins) {
    RawRtsp raw(relay.port());
    const auto t0 = std::chrono::steady_clock::now();
    RtspReply r = raw.request(describe(relay.url("/" + o.name), 1), 20s);
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s: %d after %.2f s\n", o.name.c_str(), r.status, took);
    EXPECT_TRUE(r.status == 502 || r.status == 503) << o.name << ": " << r.text;
    EXPECT_LT(took, 6.0) << o.name;
    const std::string line = "proxy /" + o.name + ": " + o.url + ": the back end's certificate was refused: ";
    EXPECT_TRUE(wait_until([&] { return relay.log_contains(line + o.problem); }, 5s))
        << o.name << ": no log line naming the problem (" << o.problem << ")\n" << relay.log_tail();
    Viewer trusted(relay.url("/" + o.name + "-trusted"), "tcp");
    EXPECT_TRUE(wait_until([&] { return trusted.video_frames() >= 10; }, 40s))
        << o.name << "-trusted: " << trusted.state() << relay.log_tail();
  }
  EXPECT_TRUE(relay.alive());
}

TEST_F(Tls, HttpApiSpeaksHttps) {
  auto srv = start(launch_conf("/cam"), {}, true);
  std::string url = "https://127.0.0.1:" + std::to_string(srv->http_port()) + "/api/v1/paths";
  RunResult ok = run({"curl", "-sS", "--max-time", "20", "--cacert", certs_->ca, url}, 30s);
  EXPECT_EQ(ok.exit_status, 0) << ok.err;
  EXPECT_NE(ok.out.find("\"/cam\""), std::string::npos) << ok.out;
  // Not over plain HTTP, and not to a client that trusts another CA.
  RunResult plain = run({"curl", "-sS", "--max-time", "10", srv->http_url("/api/v1/paths")}, 20s);
  EXPECT_EQ(plain.out.find("\"/cam\""), std::string::npos) << plain.out;
  RunResult other =
      run({"curl", "-sS", "--max-time", "10", "--cacert", certs_->other_ca, url}, 20s);
  EXPECT_NE(other.exit_status, 0);
}

// A client that connects to the RTSPS port and never completes a request is
// closed after request-timeout, as on the plain port.
TEST_F(Tls, SilentTlsClientIsClosed) {
  auto srv = start("[server]\nrequest-timeout=2\n" + launch_conf("/cam"), {"-v"});
  RawRtsp silent(tls_port_);
  ASSERT_TRUE(silent.connected());
  EXPECT_TRUE(wait_until([&] { return srv->log_contains("no complete RTSPS request in time"); },
                         15s))
      << srv->log_tail();
}

}  // namespace
}  // namespace gms::test
