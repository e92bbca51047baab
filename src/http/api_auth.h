// Users on the HTTP API (once users exist): every request needs Digest
// (libsoup's SoupAuthDomainDigest, fed the users' HA1) or Basic (over HTTPS,
// or where allow-basic-plaintext says so). GET and HEAD need read on the
// path concerned (any read for listings and metrics); everything else needs
// admin. Runs on the control context, like the API.
#pragma once

#include <functional>
#include <string>

typedef struct _SoupServer SoupServer;
typedef struct _SoupServerMessage SoupServerMessage;
typedef struct _SoupAuthDomain SoupAuthDomain;

namespace gms::http {

// The server's users, for the API's own checks (ApiAuth below).
struct ApiUsers {
  std::function<bool()> any;  // false: no users, the API stays on loopback
  std::function<std::string()> realm;
  std::function<bool()> basic_over_plain;
  std::function<bool(const std::string& user, const std::string& password)> check_password;
  std::function<std::string(const std::string& user)> ha1;  // empty: unknown
  // `admin` false: read. `path` empty: on some path.
  std::function<bool(const std::string& user, bool admin, const std::string& path)> may;
  std::function<void()> count_failure;
};

class ApiAuth {
 public:
  explicit ApiAuth(ApiUsers users);
  ~ApiAuth();
  ApiAuth(const ApiAuth&) = delete;
  ApiAuth& operator=(const ApiAuth&) = delete;

  // Whether users exist (without them the API serves loopback only).
  bool active() const { return users_.any && users_.any(); }

  // True when the request may go on; otherwise it has been answered (401
  // with the challenges, or 403). `path` is the served path concerned, or
  // empty for a listing.
  bool allow(SoupServer* server, SoupServerMessage* msg, const std::string& method,
             const std::string& path);

 private:
  void make_domains(const std::string& realm);
  void drop_domains();

  ApiUsers users_;
  std::string realm_;
  SoupAuthDomain* basic_ = nullptr;
  SoupAuthDomain* digest_ = nullptr;
};

}  // namespace gms::http
