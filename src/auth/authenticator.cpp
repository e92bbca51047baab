#include "auth/authenticator.h"

#include <glib.h>

#include "auth/crypto.h"

namespace gms::auth {
namespace {

constexpr size_t kNoncesPerConnection = 4;
constexpr size_t kNcPerConnection = 16;

std::string param(const std::map<std::string, std::string>& p, const char* name) {
  auto it = p.find(name);
  return it == p.end() ? std::string() : it->second;
}

}  // namespace

Authenticator::Authenticator(AuthSettings settings, std::shared_ptr<const UserDb> users)
    : settings_(std::move(settings)),
      nonces_(settings_.realm, settings_.nonce_lifetime),
      users_(users ? std::move(users) : std::make_shared<UserDb>()) {}

void Authenticator::set_users(std::shared_ptr<const UserDb> users) {
  std::lock_guard<std::mutex> g(lock_);
  users_ = std::move(users);
}

std::shared_ptr<const UserDb> Authenticator::users() const {
  std::lock_guard<std::mutex> g(lock_);
  return users_;
}

std::vector<std::string> Authenticator::challenges(const std::string& ip, bool tls, bool stale,
                                                   ConnectionAuth& conn, int64_t now_us) {
  std::string nonce = nonces_.make(ip, now_us / 1000000);
  conn.nonces.push_back(nonce);
  if (conn.nonces.size() > kNoncesPerConnection)
    conn.nonces.pop_front();
  std::vector<std::string> out;
  out.push_back("Digest realm=\"" + settings_.realm + "\", nonce=\"" + nonce +
                "\", algorithm=MD5, qop=\"auth\"" + (stale ? ", stale=true" : ""));
  if (basic_allowed(tls))
    out.push_back("Basic realm=\"" + settings_.realm + "\"");
  return out;
}

Authenticator::Proof Authenticator::verify_digest(const AuthRequest& r, ConnectionAuth& conn,
                                                  const User*& user, int64_t now_us) const {
  const auto& p = r.digest;
  const std::string name = param(p, "username"), nonce = param(p, "nonce"),
                    uri = param(p, "uri"), response = param(p, "response"),
                    qop = param(p, "qop");
  if (name.empty() || nonce.empty() || response.empty() || param(p, "realm") != settings_.realm)
    return Proof::kBad;
  // The digest covers the URI it names; it must be this request's.
  if (uri != r.uri)
    return Proof::kBad;
  if (!user)
    return Proof::kBad;
  auto it = user->ha1.find(settings_.realm);
  if (it == user->ha1.end())
    return Proof::kBad;
  const std::string ha2 = md5_hex(r.method + ":" + uri);
  std::string expected;
  uint64_t nc = 0;
  if (qop.empty()) {
    expected = md5_hex(it->second + ":" + nonce + ":" + ha2);
  } else if (qop == "auth") {
    const std::string nc_text = param(p, "nc"), cnonce = param(p, "cnonce");
    if (nc_text.empty() || cnonce.empty())
      return Proof::kBad;
    nc = strtoull(nc_text.c_str(), nullptr, 16);
    expected = md5_hex(it->second + ":" + nonce + ":" + nc_text + ":" + cnonce + ":" + qop + ":" +
                       ha2);
  } else {
    return Proof::kBad;
  }
  if (!equal_constant_time(expected, response))
    return Proof::kBad;
  // The password is right. The nonce must be ours, fresh, handed out on
  // this connection, and (with qop) its count must move forward: anything
  // else is a replay, answered with a new nonce (stale).
  if (nonces_.check(nonce, r.ip, now_us / 1000000) != NonceMaker::Check::kFresh)
    return Proof::kStale;
  bool issued_here = false;
  for (const auto& n : conn.nonces)
    issued_here = issued_here || equal_constant_time(n, nonce);
  if (!issued_here)
    return Proof::kStale;
  if (!qop.empty()) {
    auto [slot, fresh] = conn.last_nc.emplace(nonce, 0);
    if (!fresh && nc <= slot->second)
      return Proof::kStale;
    slot->second = nc;
    if (conn.last_nc.size() > kNcPerConnection)
      conn.last_nc.erase(conn.last_nc.begin() == slot ? std::next(slot) : conn.last_nc.begin());
  }
  return Proof::kGood;
}

Authenticator::Proof Authenticator::verify_basic(const AuthRequest& r, ConnectionAuth& conn,
                                                 const User*& user) const {
  if (!user)
    return Proof::kBad;
  // The slow hash once per connection and credentials; later requests on
  // the connection compare a keyed hash of them.
  std::string key = hmac_sha256_hex(nonces_.key(), r.basic_user + ":" + r.basic_password);
  if (!conn.basic_key.empty() && equal_constant_time(conn.basic_key, key))
    return Proof::kGood;
  if (!user->password_is(r.basic_password))
    return Proof::kBad;
  conn.basic_key = key;
  return Proof::kGood;
}

FailureThrottle::Verdict Authenticator::note_failure(const std::string& ip, int64_t now_us) {
  failures_++;
  return throttle_.failed(ip, now_us);
}

AuthResult Authenticator::check(const AuthRequest& r, ConnectionAuth& conn, int64_t now_us) {
  AuthResult res;
  auto db = users();
  if (r.scheme.empty() && (r.anonymous & r.needed)) {
    res.verdict = AuthResult::Verdict::kAllow;
    return res;
  }
  Proof proof = Proof::kNone;
  const User* user = nullptr;
  if (r.scheme == "digest") {
    res.user = param(r.digest, "username");
    user = db->find(res.user);
    proof = verify_digest(r, conn, user, now_us);
  } else if (r.scheme == "basic" && basic_allowed(r.tls)) {
    res.user = r.basic_user;
    user = db->find(res.user);
    proof = verify_basic(r, conn, user);
  } else if (r.scheme == "basic") {
    res.why = "Basic refused without TLS";
  }
  if (proof == Proof::kGood) {
    conn.user = res.user;
    if (user->allows(r.needed, r.path) || (r.anonymous & r.needed)) {
      res.verdict = AuthResult::Verdict::kAllow;
    } else {
      res.verdict = AuthResult::Verdict::kForbidden;
      res.why = "user " + res.user + " has no role for " + r.method + " on " + r.path;
    }
    return res;
  }
  res.verdict = AuthResult::Verdict::kChallenge;
  if (proof == Proof::kBad) {
    res.bad_credentials = true;
    res.why = "wrong credentials for user '" + res.user + "'";
    auto v = note_failure(r.ip, now_us);
    res.delay_ms = v.delay_ms;
    res.burst_started = v.burst_started;
  } else {
    // A first request (no credentials) or a stale nonce is answered at
    // once: only guesses wait, or a guesser's next connection would stall
    // before it guessed.
    if (proof == Proof::kStale)
      res.why = "stale or replayed nonce";
  }
  res.challenges = challenges(r.ip, r.tls, proof == Proof::kStale, conn, now_us);
  return res;
}

std::optional<User> Authenticator::basic_user(const std::string& name,
                                              const std::string& password) const {
  auto db = users();
  const User* u = db->find(name);
  if (!u)
    return std::nullopt;
  // The HTTP API checks on the control context: the slow hash runs once per
  // credentials and minute, later requests compare a keyed hash of them.
  const std::string key = hmac_sha256_hex(nonces_.key(), name + ":" + password + ":" + u->salt);
  const int64_t now = g_get_monotonic_time();
  {
    std::lock_guard<std::mutex> g(basic_lock_);
    auto it = basic_ok_.find(key);
    if (it != basic_ok_.end() && now - it->second < kBasicCacheUs)
      return *u;
  }
  if (!u->password_is(password))
    return std::nullopt;
  std::lock_guard<std::mutex> g(basic_lock_);
  if (basic_ok_.size() >= kBasicCacheSize)
    basic_ok_.clear();
  basic_ok_[key] = now;
  return *u;
}

std::optional<User> Authenticator::user(const std::string& name) const {
  auto db = users();
  const User* u = db->find(name);
  if (u)
    return *u;
  return std::nullopt;
}

std::string Authenticator::ha1_of(const std::string& name) const {
  auto db = users();
  const User* u = db->find(name);
  if (!u)
    return {};
  auto it = u->ha1.find(settings_.realm);
  return it == u->ha1.end() ? std::string() : it->second;
}

}  // namespace gms::auth
