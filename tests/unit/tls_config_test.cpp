// The encryption keys of the configuration: read from [server] and [path],
// the command line winning, and the checks that need no certificate file.
#include <gst-mediaserver/config.h>
#include <gtest/gtest.h>

#include <string>

namespace gms {
namespace {

std::string validate_error(const Config& c) {
  try {
    c.validate();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return {};
}

TEST(TlsConfig, DefaultsAreOff) {
  Config c = Config::from_data("[path /x]\nlaunch=videotestsrc ! rtpvrawpay name=pay0\n", "t");
  EXPECT_TRUE(c.server.tls_cert.empty());
  EXPECT_EQ(c.server.tls_port, 8322);
  EXPECT_EQ(c.server.http_tunnel_port, 0);
  EXPECT_FALSE(c.paths[0].require_tls);
  EXPECT_FALSE(c.paths[0].srtp);
  EXPECT_TRUE(c.paths[0].backend_tls_verify);
}

TEST(TlsConfig, ReadsServerAndPathKeys) {
  Config c = Config::from_data(
      "[server]\ntls-cert=/etc/c.pem\ntls-key=k.pem\ntls-port=9322\nhttp-tunnel-port=8000\n"
      "[path /cam]\nproxy=rtsps://192.0.2.1/s\nbackend-tls-verify=false\nrequire-tls=true\n"
      "srtp=true\n",
      "/srv/site.conf");
  EXPECT_EQ(c.server.tls_cert, "/etc/c.pem");
  EXPECT_EQ(c.server.tls_key, "/srv/k.pem");  // relative to the file
  EXPECT_EQ(c.server.tls_port, 9322);
  EXPECT_EQ(c.server.http_tunnel_port, 8000);
  EXPECT_FALSE(c.paths[0].backend_tls_verify);
  EXPECT_TRUE(c.paths[0].require_tls);
  EXPECT_TRUE(c.paths[0].srtp);
}

TEST(TlsConfig, CommandLineWins) {
  const char* argv[] = {"gms", "--tls-cert", "/a/c.pem", "--tls-key=/a/k.pem", "--tls-port",
                        "0", "--http-tunnel-port", "8080"};
  CliOptions cli = CliOptions::parse(8, argv);
  Config c = Config::from_data("[server]\ntls-port=9000\n", "t");
  c.apply(cli);
  EXPECT_EQ(c.server.tls_cert, "/a/c.pem");
  EXPECT_EQ(c.server.tls_key, "/a/k.pem");
  EXPECT_EQ(c.server.tls_port, 0);
  EXPECT_EQ(c.server.http_tunnel_port, 8080);
}

TEST(TlsConfig, BackendKeysAreForProxiesOnly) {
  try {
    Config::from_data("[path /x]\nlaunch=videotestsrc ! rtpvrawpay name=pay0\n"
                      "backend-tls-verify=false\n",
                      "t");
    FAIL() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("backend-tls-verify: only for proxy paths"),
              std::string::npos)
        << e.what();
  }
}

TEST(TlsConfig, ChecksWithoutCertificateFiles) {
  Config c = Config::from_data(
      "[path /x]\nlaunch=videotestsrc ! rtpvrawpay name=pay0\nrequire-tls=true\n", "t");
  EXPECT_NE(validate_error(c).find("require-tls: no RTSPS to require"), std::string::npos);
  Config t = Config::from_data("[server]\nport=8554\nhttp-tunnel-port=8554\n", "t");
  EXPECT_NE(validate_error(t).find("http-tunnel-port: port 8554 is taken"), std::string::npos);
  Config k = Config::from_data("[server]\ntls-key=/k.pem\n", "t");
  EXPECT_NE(validate_error(k).find("tls-key: a key without a certificate"), std::string::npos);
  Config m = Config::from_data("[server]\ntls-cert=/nonexistent/c.pem\n", "t");
  EXPECT_NE(validate_error(m).find("tls-cert: '/nonexistent/c.pem' is not a file"),
            std::string::npos)
      << validate_error(m);
}

TEST(TlsConfig, ReloadComparesTheNewPathKeys) {
  PathConfig a, b;
  a.name = b.name = "/x";
  EXPECT_TRUE(a.same_source(b));
  b.require_tls = true;
  EXPECT_FALSE(a.same_source(b));
  b = a;
  b.srtp = true;
  EXPECT_FALSE(a.same_source(b));
  b = a;
  b.backend_tls_ca = "/ca.pem";
  EXPECT_FALSE(a.same_source(b));
}

}  // namespace
}  // namespace gms
