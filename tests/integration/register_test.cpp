// REGISTER as live555's registerRTSPStream sends it: a back end asks the
// proxy to relay it, with and without reuse_connection, with Digest (-U).
#include <gtest/gtest.h>

#include "pipelines.h"
#include "process.h"
#include "rtsp_raw.h"
#include "viewer.h"

namespace gms::test {
namespace {

std::unique_ptr<ServerProcess> origin() {
  return std::make_unique<ServerProcess>(
      std::vector<std::string>{"--mount", std::string("/o=") + kH264Opus});
}

std::string reg(const std::string& method, const std::string& url, int cseq,
                const std::string& transport, const std::string& extra = {}) {
  return method + " " + url + " RTSP/1.0\r\nCSeq: " + std::to_string(cseq) +
         "\r\nTransport: " + transport + "\r\n" + extra + "\r\n";
}

std::string md5(const std::string& s) {
  GCharPtr h(g_compute_checksum_for_string(G_CHECKSUM_MD5, s.c_str(), -1));
  return h.get();
}

// A back end behind NAT: it can only connect out, so after REGISTER it
// serves RTSP over that same connection (here by splicing it to an origin).
class ReusingBackEnd {
 public:
  ReusingBackEnd(uint16_t proxy_port, uint16_t origin_port, const std::string& url,
                 const std::string& suffix) {
    auto client = Ref<GSocketClient>::adopt(g_socket_client_new());
    to_proxy_ = Ref<GSocketConnection>::adopt(
        g_socket_client_connect_to_host(client.get(), "127.0.0.1", proxy_port, nullptr, nullptr));
    std::string req = reg("REGISTER", url, 1,
                          "reuse_connection; preferred_delivery_protocol=interleaved; "
                          "proxy_url_suffix=" + suffix);
    GOutputStream* out = g_io_stream_get_output_stream(G_IO_STREAM(to_proxy_.get()));
    g_output_stream_write_all(out, req.data(), req.size(), nullptr, nullptr, nullptr);
    GInputStream* in = g_io_stream_get_input_stream(G_IO_STREAM(to_proxy_.get()));
    char c;
    while (reply_.find("\r\n\r\n") == std::string::npos &&
           g_input_stream_read(in, &c, 1, nullptr, nullptr) == 1)
      reply_ += c;
    to_origin_ = Ref<GSocketConnection>::adopt(
        g_socket_client_connect_to_host(client.get(), "127.0.0.1", origin_port, nullptr, nullptr));
    g_io_stream_splice_async(G_IO_STREAM(to_proxy_.get()), G_IO_STREAM(to_origin_.get()),
                             G_IO_STREAM_SPLICE_NONE, G_PRIORITY_DEFAULT, nullptr, nullptr, nullptr);
  }
  const std::string& reply() const { return reply_; }

 private:
  Ref<GSocketConnection> to_proxy_, to_origin_;
  std::string reply_;
};

TEST(Register, BackEndAsksToBeProxied) {
  auto o = origin();
  ServerProcess p({"-R"});
  ASSERT_TRUE(p.ready()) << p.log();
  RawRtsp c(p.port());
  RtspReply r = c.request(reg("REGISTER", o->url("/o"), 1,
                              "preferred_delivery_protocol=udp; proxy_url_suffix=lobby"));
  EXPECT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.header("CSeq"), "1");
  Viewer v(p.url("/lobby"), "tcp");
  EXPECT_TRUE(wait_until([&] { return v.video_frames() >= 15; }, 20s)) << v.error() << p.log();

  RawRtsp d(p.port());
  EXPECT_EQ(d.request(reg("DEREGISTER", o->url("/o"), 2, "proxy_url_suffix=lobby")).status, 200);
  RawRtsp after(p.port());
  EXPECT_EQ(after.request("DESCRIBE " + p.url("/lobby") + " RTSP/1.0\r\nCSeq: 1\r\n\r\n").status,
            404);
}

TEST(Register, ReuseConnection) {
  auto o = origin();
  ServerProcess p({"-R", "-v"});
  ASSERT_TRUE(p.ready());
  ReusingBackEnd backend(p.port(), o->port(), o->url("/o"), "nat-cam");
  EXPECT_NE(backend.reply().find("RTSP/1.0 200"), std::string::npos) << backend.reply();
  Viewer v(p.url("/nat-cam"), "udp");
  EXPECT_TRUE(wait_until([&] { return v.video_frames() >= 15; }, 20s)) << v.error() << p.log();
  EXPECT_TRUE(p.log_contains("over the REGISTER connection"));
}

TEST(Register, RefusedWithoutDashR) {
  auto o = origin();
  ServerProcess p({"--mount", std::string("/x=") + kMjpeg});
  ASSERT_TRUE(p.ready());
  RawRtsp c(p.port());
  RtspReply r = c.request(reg("REGISTER", o->url("/o"), 1, "proxy_url_suffix=lobby"));
  EXPECT_NE(r.status, 200) << r.text;
}

TEST(Register, DigestWithDashU) {
  auto o = origin();
  ServerProcess p({"-R", "-U", "alice", "secret"});
  ASSERT_TRUE(p.ready());
  RawRtsp c(p.port());
  std::string url = o->url("/o");
  RtspReply first = c.request(reg("REGISTER", url, 1, "proxy_url_suffix=sec"));
  ASSERT_EQ(first.status, 401) << first.text;
  std::string www = first.header("WWW-Authenticate");
  auto n0 = www.find("nonce=\"") + 7;
  std::string nonce = www.substr(n0, www.find('"', n0) - n0);
  std::string realm = "gst-mediaserver";
  std::string wrong = "Authorization: Digest username=\"alice\", realm=\"" + realm + "\", nonce=\"" +
                      nonce + "\", uri=\"" + url + "\", response=\"0000\"\r\n";
  EXPECT_EQ(c.request(reg("REGISTER", url, 2, "proxy_url_suffix=sec", wrong)).status, 401);
  std::string response = md5(md5("alice:" + realm + ":secret") + ":" + nonce + ":" +
                             md5("REGISTER:" + url));
  std::string good = "Authorization: Digest username=\"alice\", realm=\"" + realm + "\", nonce=\"" +
                     nonce + "\", uri=\"" + url + "\", response=\"" + response + "\"\r\n";
  EXPECT_EQ(c.request(reg("REGISTER", url, 3, "proxy_url_suffix=sec", good)).status, 200);
  Viewer v(p.url("/sec"), "tcp");
  EXPECT_TRUE(wait_until([&] { return v.video_frames() >= 10; }, 20s)) << p.log();
}

}  // namespace
}  // namespace gms::test
