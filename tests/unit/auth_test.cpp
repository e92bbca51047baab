// Users, roles, nonces, the brute-force throttle, the Digest and Basic
// decisions and the redaction of secrets, without a server.
#include <gst-mediaserver/config.h>
#include <gtest/gtest.h>

#include "auth/authenticator.h"
#include "auth/crypto.h"
#include "auth/failure_throttle.h"
#include "auth/nonce.h"
#include "auth/redact.h"
#include "auth/users.h"

namespace gms::auth {
namespace {

const char kRealm[] = "gst-mediaserver";

TEST(Redact, PasswordsInUrls) {
  EXPECT_EQ(redact("proxy of rtsp://cam:s3cret@192.0.2.1:554/stream"),
            "proxy of rtsp://cam:***@192.0.2.1:554/stream");
  EXPECT_EQ(redact("rtspsrc location=rtsps://u:p%40ss@h/x ! fakesink"),
            "rtspsrc location=rtsps://u:***@h/x ! fakesink");
  EXPECT_EQ(redact("rtsp://user@host/x"), "rtsp://user@host/x");  // no password
  EXPECT_EQ(redact("plain line, nothing here"), "plain line, nothing here");
}

TEST(Redact, HeadersAndDigests) {
  EXPECT_EQ(redact("Authorization: Basic YWxpY2U6c2VjcmV0MQ=="), "Authorization: ***");
  std::string d = redact(
      "Authorization: Digest username=\"alice\", response=\"0123456789abcdef0123456789abcdef\"");
  EXPECT_EQ(d.find("0123456789abcdef"), std::string::npos) << d;
  EXPECT_EQ(redact("got response=\"abcd1234\" from x"), "got response=\"***\" from x");
  EXPECT_EQ(redact("Basic YWxpY2U6c2VjcmV0MQ=="), "Basic ***");
}

TEST(Redact, SettingsAndJson) {
  EXPECT_EQ(redact("backend-password=hunter2"), "backend-password=***");
  EXPECT_EQ(redact("register-password = hunter2 next"), "register-password = *** next");
  EXPECT_EQ(redact("{\"password\": \"hunter2\"}"), "{\"password\": ***}");
  EXPECT_EQ(redact("ha1=gst-mediaserver:5d41402abc4b2a76b9719d911017c592"), "ha1=***");
  EXPECT_EQ(redact("pbkdf2-sha256=60000:abcdef"), "pbkdf2-sha256=***");
}

TEST(Roles, PatternsAndGrants) {
  EXPECT_TRUE(path_matches("/*", "/anything/at/all"));
  EXPECT_TRUE(path_matches("/live/*", "/live/cam1/stream=0"));
  EXPECT_FALSE(path_matches("/live/*", "/lived"));
  EXPECT_TRUE(path_matches("/cam1", "/cam1"));
  EXPECT_TRUE(path_matches("/cam1", "/cam1/stream=0"));
  EXPECT_FALSE(path_matches("/cam1", "/cam10"));
  EXPECT_TRUE(path_matches("/", "/vod/a.mp4"));

  std::vector<Grant> g;
  std::string why;
  ASSERT_TRUE(parse_grants("read:/*, publish:/live/*", g, why)) << why;
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(grants_to_string(g), "read:/*,publish:/live/*");
  EXPECT_FALSE(parse_grants("write:/*", g, why));
  EXPECT_FALSE(parse_grants("", g, why));
  EXPECT_FALSE(parse_grants("read:nope", g, why));

  User u;
  ASSERT_TRUE(parse_grants("read:/cam1,publish:/live/*", u.grants, why));
  EXPECT_TRUE(u.allows(kRead, "/cam1/stream=0"));
  EXPECT_FALSE(u.allows(kRead, "/live/x"));
  EXPECT_TRUE(u.allows(kPublish, "/live/x"));
  EXPECT_FALSE(u.allows(kPublish, "/cam1"));
  User admin;
  ASSERT_TRUE(parse_grants("admin:/*", admin.grants, why));
  EXPECT_TRUE(admin.allows(kRead, "/x"));
  EXPECT_TRUE(admin.allows(kPublish, "/x"));
  EXPECT_TRUE(admin.allows_anywhere(kAdmin));
  EXPECT_FALSE(u.allows_anywhere(kAdmin));
}

TEST(Users, RoundTripWithoutClearPassword) {
  UserDb db;
  db.put(make_user("alice", "s3cret-pw", kRealm, {{kRead, "/*"}}));
  std::string text = db.to_text();
  EXPECT_EQ(text.find("s3cret-pw"), std::string::npos);
  UserDb back = UserDb::parse(text, "users");
  const User* a = back.find("alice");
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->password_is("s3cret-pw"));
  EXPECT_FALSE(a->password_is("s3cret-pX"));
  EXPECT_EQ(a->ha1.at(kRealm), digest_ha1("alice", kRealm, "s3cret-pw"));
  EXPECT_TRUE(a->same_credentials(*db.find("alice")));
}

TEST(Users, BadFilesNameLineAndKey) {
  try {
    UserDb::parse("[user bob]\nroles=fly:/*\nha1=x:zz\n", "u.txt");
    FAIL() << "accepted";
  } catch (const ConfigError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("u.txt:2"), std::string::npos) << msg;
    EXPECT_NE(msg.find("roles"), std::string::npos) << msg;
    EXPECT_NE(msg.find("u.txt:3"), std::string::npos) << msg;
  }
  EXPECT_THROW(UserDb::parse("[group]\nx=1\n", "u"), ConfigError);
  EXPECT_THROW(UserDb::parse("[user a b]\nroles=read\nha1=r:" + std::string(32, 'a') + "\n", "u"),
               ConfigError);
}

TEST(Nonce, FreshStaleForged) {
  NonceMaker n(kRealm, 300);
  std::string a = n.make("127.0.0.1", 1000);
  EXPECT_EQ(n.check(a, "127.0.0.1", 1000), NonceMaker::Check::kFresh);
  EXPECT_EQ(n.check(a, "127.0.0.1", 1299), NonceMaker::Check::kFresh);
  EXPECT_EQ(n.check(a, "127.0.0.1", 1300), NonceMaker::Check::kStale);
  EXPECT_EQ(n.check(a, "127.0.0.2", 1000), NonceMaker::Check::kForged);
  std::string forged = a;
  forged[15] = forged[15] == '0' ? '1' : '0';  // another issue time
  EXPECT_EQ(n.check(forged, "127.0.0.1", 1000), NonceMaker::Check::kForged);
  NonceMaker other(kRealm, 300);  // another run's key
  EXPECT_EQ(other.check(a, "127.0.0.1", 1000), NonceMaker::Check::kForged);
}

TEST(Throttle, BurstThenDoublingThenQuiet) {
  FailureThrottle t(3);
  int64_t now = 1'000'000'000;
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(t.failed("a", now += 1000).delay_ms, 0u);
  auto v = t.failed("a", now += 1000);
  EXPECT_EQ(v.delay_ms, FailureThrottle::kFirstDelayMs);
  EXPECT_TRUE(v.burst_started);
  unsigned last = v.delay_ms;
  for (int i = 0; i < 6; ++i) {
    v = t.failed("a", now += 1000);
    EXPECT_FALSE(v.burst_started);
    EXPECT_GE(v.delay_ms, last);
    last = v.delay_ms;
  }
  EXPECT_EQ(last, FailureThrottle::kMaxDelayMs);
  EXPECT_EQ(t.penalty("a", now), FailureThrottle::kMaxDelayMs);
  EXPECT_EQ(t.penalty("b", now), 0u);  // other addresses are not slowed
  EXPECT_EQ(t.penalty("a", now + FailureThrottle::kWindowUs + 1), 0u);
  EXPECT_EQ(t.failed("a", now + FailureThrottle::kWindowUs + 1).delay_ms, 0u);
  // Bounded: the least recent address goes.
  t.failed("b", now);
  t.failed("c", now);
  t.failed("d", now);
  EXPECT_EQ(t.size(), 3u);
}

// A client computing Digest as RFC 2617 does.
struct DigestClient {
  std::string user, password, realm = kRealm;
  std::map<std::string, std::string> sign(const std::string& method, const std::string& uri,
                                          const std::string& nonce, unsigned nc = 0) const {
    std::string ha1 = digest_ha1(user, realm, password);
    std::string ha2 = md5_hex(method + ":" + uri);
    std::map<std::string, std::string> p{
        {"username", user}, {"realm", realm}, {"nonce", nonce}, {"uri", uri}};
    if (nc) {
      char nc_text[9];
      snprintf(nc_text, sizeof nc_text, "%08x", nc);
      p["qop"] = "auth";
      p["nc"] = nc_text;
      p["cnonce"] = "c0ffee";
      p["response"] = md5_hex(ha1 + ":" + nonce + ":" + nc_text + ":c0ffee:auth:" + ha2);
    } else {
      p["response"] = md5_hex(ha1 + ":" + nonce + ":" + ha2);
    }
    return p;
  }
};

std::string nonce_of(const std::string& challenge) {
  auto b = challenge.find("nonce=\"") + 7;
  return challenge.substr(b, challenge.find('"', b) - b);
}

class AuthCore : public ::testing::Test {
 protected:
  AuthCore() {
    auto db = std::make_shared<UserDb>();
    db->put(make_user("alice", "pw-a", kRealm, {{kRead, "/*"}}));
    db->put(make_user("bob", "pw-b", kRealm, {{kPublish, "/live/*"}}));
    core = std::make_unique<Authenticator>(AuthSettings{kRealm, false, 300}, db);
  }
  AuthRequest request(const std::string& method, const std::string& path, unsigned needed) {
    AuthRequest r;
    r.method = method;
    r.path = path;
    r.uri = "rtsp://127.0.0.1:8554" + path;
    r.ip = "127.0.0.1";
    r.needed = needed;
    return r;
  }
  std::unique_ptr<Authenticator> core;
  int64_t now = 5'000'000'000;
};

TEST_F(AuthCore, DigestAllowForbidChallenge) {
  ConnectionAuth conn;
  AuthRequest r = request("DESCRIBE", "/cam", kRead);
  AuthResult first = core->check(r, conn, now);
  ASSERT_EQ(first.verdict, AuthResult::Verdict::kChallenge);
  ASSERT_EQ(first.challenges.size(), 1u);  // no Basic without TLS
  EXPECT_FALSE(first.bad_credentials);
  std::string nonce = nonce_of(first.challenges[0]);

  r.scheme = "digest";
  r.digest = DigestClient{"alice", "pw-a"}.sign("DESCRIBE", r.uri, nonce);
  AuthResult ok = core->check(r, conn, now);
  EXPECT_EQ(ok.verdict, AuthResult::Verdict::kAllow);
  EXPECT_EQ(ok.user, "alice");
  // The same header again: without qop this is how clients go on.
  EXPECT_EQ(core->check(r, conn, now).verdict, AuthResult::Verdict::kAllow);

  r.digest = DigestClient{"alice", "nope"}.sign("DESCRIBE", r.uri, nonce);
  AuthResult bad = core->check(r, conn, now);
  EXPECT_EQ(bad.verdict, AuthResult::Verdict::kChallenge);
  EXPECT_TRUE(bad.bad_credentials);
  EXPECT_EQ(core->failures(), 1u);

  AuthRequest rec = request("RECORD", "/cam", kPublish);
  rec.scheme = "digest";
  rec.digest = DigestClient{"alice", "pw-a"}.sign("RECORD", rec.uri, nonce);
  EXPECT_EQ(core->check(rec, conn, now).verdict, AuthResult::Verdict::kForbidden);

  AuthRequest play = request("DESCRIBE", "/cam", kRead);
  play.scheme = "digest";
  play.digest = DigestClient{"bob", "pw-b"}.sign("DESCRIBE", play.uri, nonce);
  EXPECT_EQ(core->check(play, conn, now).verdict, AuthResult::Verdict::kForbidden);
}

TEST_F(AuthCore, ReplayStaleWrongUri) {
  ConnectionAuth conn, other;
  AuthRequest r = request("DESCRIBE", "/cam", kRead);
  std::string nonce = nonce_of(core->check(r, conn, now).challenges[0]);
  r.scheme = "digest";
  r.digest = DigestClient{"alice", "pw-a"}.sign("DESCRIBE", r.uri, nonce, 1);
  EXPECT_EQ(core->check(r, conn, now).verdict, AuthResult::Verdict::kAllow);
  // The same nc again: a replay, answered with a fresh nonce marked stale.
  AuthResult again = core->check(r, conn, now);
  EXPECT_EQ(again.verdict, AuthResult::Verdict::kChallenge);
  ASSERT_FALSE(again.challenges.empty());
  EXPECT_NE(again.challenges[0].find("stale=true"), std::string::npos);
  EXPECT_FALSE(again.bad_credentials);
  // The next nc goes through.
  r.digest = DigestClient{"alice", "pw-a"}.sign("DESCRIBE", r.uri, nonce, 2);
  EXPECT_EQ(core->check(r, conn, now).verdict, AuthResult::Verdict::kAllow);
  // Another connection may not use this connection's nonce.
  r.digest = DigestClient{"alice", "pw-a"}.sign("DESCRIBE", r.uri, nonce, 3);
  EXPECT_EQ(core->check(r, other, now).verdict, AuthResult::Verdict::kChallenge);
  // Nor another address.
  AuthRequest far = r;
  far.ip = "127.0.0.2";
  far.digest = DigestClient{"alice", "pw-a"}.sign("DESCRIBE", r.uri, nonce, 4);
  EXPECT_EQ(core->check(far, conn, now).verdict, AuthResult::Verdict::kChallenge);
  // Five minutes later the nonce is stale.
  r.digest = DigestClient{"alice", "pw-a"}.sign("DESCRIBE", r.uri, nonce, 5);
  AuthResult stale = core->check(r, conn, now + 301'000'000);
  EXPECT_EQ(stale.verdict, AuthResult::Verdict::kChallenge);
  EXPECT_NE(stale.challenges[0].find("stale=true"), std::string::npos);
  // A digest made for another URI does not open this one.
  AuthRequest p2 = request("DESCRIBE", "/cam2", kRead);
  p2.scheme = "digest";
  std::string n2 = nonce_of(core->check(request("DESCRIBE", "/cam2", kRead), conn, now).challenges[0]);
  p2.digest = DigestClient{"alice", "pw-a"}.sign("DESCRIBE", "rtsp://127.0.0.1:8554/cam", n2);
  EXPECT_EQ(core->check(p2, conn, now).verdict, AuthResult::Verdict::kChallenge);
}

TEST_F(AuthCore, BasicOnlyOverTlsOrWhenAllowed) {
  ConnectionAuth conn;
  AuthRequest r = request("DESCRIBE", "/cam", kRead);
  r.scheme = "basic";
  r.basic_user = "alice";
  r.basic_password = "pw-a";
  AuthResult plain = core->check(r, conn, now);
  EXPECT_EQ(plain.verdict, AuthResult::Verdict::kChallenge);
  EXPECT_EQ(plain.challenges.size(), 1u);  // Digest only
  r.tls = true;
  AuthResult tls = core->check(r, conn, now);
  EXPECT_EQ(tls.verdict, AuthResult::Verdict::kAllow);
  r.basic_password = "wrong";
  AuthResult wrong = core->check(r, conn, now);
  EXPECT_EQ(wrong.verdict, AuthResult::Verdict::kChallenge);
  EXPECT_EQ(wrong.challenges.size(), 2u);  // Digest and Basic over TLS
  EXPECT_TRUE(wrong.bad_credentials);

  Authenticator open(AuthSettings{kRealm, true, 300}, core->users());
  r.tls = false;
  r.basic_password = "pw-a";
  EXPECT_EQ(open.check(r, conn, now).verdict, AuthResult::Verdict::kAllow);
}

TEST_F(AuthCore, AnonymousRolesOfThePath) {
  ConnectionAuth conn;
  AuthRequest r = request("DESCRIBE", "/open", kRead);
  r.anonymous = kRead;
  EXPECT_EQ(core->check(r, conn, now).verdict, AuthResult::Verdict::kAllow);
  AuthRequest rec = request("ANNOUNCE", "/open", kPublish);
  rec.anonymous = kRead;
  EXPECT_EQ(core->check(rec, conn, now).verdict, AuthResult::Verdict::kChallenge);
}

TEST_F(AuthCore, FailuresAreDelayedPerAddress) {
  ConnectionAuth conn;
  AuthRequest r = request("DESCRIBE", "/cam", kRead);
  std::string nonce = nonce_of(core->check(r, conn, now).challenges[0]);
  r.scheme = "digest";
  r.digest = DigestClient{"alice", "guess"}.sign("DESCRIBE", r.uri, nonce);
  unsigned delay = 0;
  for (int i = 0; i < 8; ++i)
    delay = core->check(r, conn, now += 1000).delay_ms;
  EXPECT_GT(delay, 0u);
  AuthRequest elsewhere = r;
  elsewhere.ip = "127.0.0.9";
  EXPECT_EQ(core->check(elsewhere, conn, now).delay_ms, 0u);
}

}  // namespace
}  // namespace gms::auth
