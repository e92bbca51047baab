// Decides one RTSP request: allowed (as which user), challenged (401 with
// its WWW-Authenticate values) or forbidden (403). Knows nothing of
// gst-rtsp-server: rtsp_auth.cpp feeds it the request and the connection's
// state. Thread-safe: every RTSP client thread calls it.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "auth/failure_throttle.h"
#include "auth/nonce.h"
#include "auth/users.h"

namespace gms::auth {

struct AuthSettings {
  std::string realm = "gst-mediaserver";
  bool allow_basic_plaintext = false;
  unsigned nonce_lifetime = 300;  // s
};

struct AuthRequest {
  std::string method;  // "DESCRIBE"
  std::string uri;     // as on the request line
  std::string path;    // its absolute path, "/cam1/stream=0"
  std::string ip;
  bool tls = false;
  unsigned needed = 0;     // Role bits: any one of them will do
  unsigned anonymous = 0;  // Role bits the path grants without a user
  std::string scheme;      // "basic", "digest" or empty: no credentials
  std::string basic_user, basic_password;
  std::map<std::string, std::string> digest;  // Digest parameters
};

// What one connection has been told and has proved so far.
struct ConnectionAuth {
  std::deque<std::string> nonces;          // issued here, newest last
  std::map<std::string, uint64_t> last_nc;  // by nonce (qop=auth)
  std::string basic_key;                    // the Basic credentials proved here
  std::string user;                         // the last user proved here
};

struct AuthResult {
  enum class Verdict { kAllow, kChallenge, kForbidden } verdict = Verdict::kChallenge;
  std::string user;                     // kAllow, kForbidden: who
  std::vector<std::string> challenges;  // kChallenge: WWW-Authenticate values
  bool bad_credentials = false;         // credentials given and wrong
  unsigned delay_ms = 0;                // answer no sooner (brute force)
  bool burst_started = false;
  std::string why;  // for the log; never holds a secret
};

class Authenticator {
 public:
  Authenticator(AuthSettings settings, std::shared_ptr<const UserDb> users);

  void set_users(std::shared_ptr<const UserDb> users);
  std::shared_ptr<const UserDb> users() const;
  const AuthSettings& settings() const { return settings_; }

  AuthResult check(const AuthRequest& r, ConnectionAuth& conn, int64_t now_us);
  // For a connection's 401 that is not a failed login (first request).
  std::vector<std::string> challenges(const std::string& ip, bool tls, bool stale,
                                      ConnectionAuth& conn, int64_t now_us);

  // Verifies credentials outside RTSP (the HTTP API): Basic with the slow
  // hash, or an HA1 lookup. Counted as RTSP failures are.
  std::optional<User> basic_user(const std::string& user, const std::string& password) const;
  std::optional<User> user(const std::string& name) const;
  std::string ha1_of(const std::string& user) const;

  uint64_t failures() const { return failures_; }
  FailureThrottle::Verdict note_failure(const std::string& ip, int64_t now_us);
  unsigned penalty(const std::string& ip, int64_t now_us) const {
    return throttle_.penalty(ip, now_us);
  }

 private:
  bool basic_allowed(bool tls) const { return tls || settings_.allow_basic_plaintext; }
  enum class Proof { kNone, kGood, kBad, kStale };
  Proof verify_digest(const AuthRequest& r, ConnectionAuth& conn, const User*& user,
                      int64_t now_us) const;
  Proof verify_basic(const AuthRequest& r, ConnectionAuth& conn, const User*& user) const;

  const AuthSettings settings_;
  NonceMaker nonces_;
  FailureThrottle throttle_;
  std::atomic<uint64_t> failures_{0};
  mutable std::mutex lock_;  // protects users_
  std::shared_ptr<const UserDb> users_;
  // Basic credentials proved lately (keyed hash → when), bounded. Taken
  // alone, never with lock_.
  static constexpr int64_t kBasicCacheUs = 60'000'000;
  static constexpr size_t kBasicCacheSize = 256;
  mutable std::mutex basic_lock_;  // protects basic_ok_
  mutable std::map<std::string, int64_t> basic_ok_;
};

}  // namespace gms::auth
