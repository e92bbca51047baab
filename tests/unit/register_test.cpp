#include "proxy/register.h"

#include <gtest/gtest.h>

namespace gms::proxy {
namespace {

TEST(Register, ParsesLive555Requests) {
  RegisterRequest r;
  std::string why;
  ASSERT_TRUE(parse_register(
      "REGISTER rtsp://10.0.0.5:8554/cam RTSP/1.0\r\nCSeq: 7\r\n"
      "Transport: reuse_connection; preferred_delivery_protocol=interleaved; proxy_url_suffix=lobby\r\n\r\n",
      r, why))
      << why;
  EXPECT_EQ(r.method, "REGISTER");
  EXPECT_EQ(r.url, "rtsp://10.0.0.5:8554/cam");
  EXPECT_EQ(r.cseq, "7");
  EXPECT_TRUE(r.reuse_connection);
  EXPECT_TRUE(r.via_tcp);
  EXPECT_EQ(r.suffix, "lobby");

  RegisterRequest d;
  ASSERT_TRUE(parse_register("DEREGISTER rtsp://h/x RTSP/1.0\r\nCSeq: 2\r\nTransport: proxy_url_suffix=lobby\r\n\r\n", d, why));
  EXPECT_EQ(d.method, "DEREGISTER");
  EXPECT_FALSE(d.reuse_connection);
  EXPECT_FALSE(d.via_tcp);
}

TEST(Register, RefusesBadRequests) {
  std::string why;
  RegisterRequest r;
  EXPECT_FALSE(parse_register("REGISTER rtsp://h/x RTSP/1.0\r\n\r\n", r, why));
  EXPECT_NE(why.find("CSeq"), std::string::npos);
  EXPECT_FALSE(parse_register("REGISTER http://h/x RTSP/1.0\r\nCSeq: 1\r\n\r\n", r, why));
  EXPECT_FALSE(parse_register("REGISTER rtsp://h/x\r\nCSeq: 1\r\n\r\n", r, why));
  for (const char* suffix : {"../etc", "/abs", "a b", "x//y", "a\"b"}) {
    RegisterRequest s;
    EXPECT_FALSE(parse_register(std::string("REGISTER rtsp://h/x RTSP/1.0\r\nCSeq: 1\r\n"
                                            "Transport: proxy_url_suffix=") + suffix + "\r\n\r\n",
                                s, why))
        << suffix;
  }
}

std::string md5(const std::string& s) {
  gchar* h = g_compute_checksum_for_string(G_CHECKSUM_MD5, s.c_str(), -1);
  std::string out = h;
  g_free(h);
  return out;
}

TEST(Register, DigestCheck) {
  std::string nonce = "abc123", realm = "gst-mediaserver", uri = "rtsp://h/x";
  std::string response = md5(md5("alice:" + realm + ":secret") + ":" + nonce + ":" +
                             md5("REGISTER:" + uri));
  std::string auth = "Digest username=\"alice\", realm=\"" + realm + "\", nonce=\"" + nonce +
                     "\", uri=\"" + uri + "\", response=\"" + response + "\"";
  EXPECT_TRUE(digest_ok(auth, "REGISTER", realm, nonce, "alice", "secret"));
  EXPECT_FALSE(digest_ok(auth, "REGISTER", realm, nonce, "alice", "wrong"));
  EXPECT_FALSE(digest_ok(auth, "REGISTER", realm, "othernonce", "alice", "secret"));
  EXPECT_FALSE(digest_ok(auth, "DEREGISTER", realm, nonce, "alice", "secret"));
  EXPECT_FALSE(digest_ok("Basic YWxpY2U6c2VjcmV0", "REGISTER", realm, nonce, "alice", "secret"));
  EXPECT_FALSE(digest_ok("Digest", "REGISTER", realm, nonce, "alice", "secret"));
}

}  // namespace
}  // namespace gms::proxy
