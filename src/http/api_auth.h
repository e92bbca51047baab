// Users on the HTTP API (once users exist): every request needs Digest
// (libsoup's SoupAuthDomainDigest, fed the users' HA1) or Basic (over HTTPS,
// or where allow-basic-plaintext says so). GET and HEAD need read on the
// path concerned (any read for listings and metrics); everything else needs
// admin. Runs on the control context, like the API.
#pragma once

#include <memory>
#include <string>

#include "auth/rtsp_auth.h"
#include "gms/ref.h"

typedef struct _SoupServer SoupServer;
typedef struct _SoupServerMessage SoupServerMessage;
typedef struct _SoupAuthDomain SoupAuthDomain;

namespace gms::http {

class ApiAuth {
 public:
  explicit ApiAuth(std::shared_ptr<auth::AccessPolicy> policy);
  ~ApiAuth();

  // True when the request may go on; otherwise it has been answered (401
  // with the challenges, or 403). `path` is the served path concerned, or
  // empty for a listing.
  bool allow(SoupServer* server, SoupServerMessage* msg, const std::string& method,
             const std::string& path);

 private:
  void make_domains(const std::string& realm);
  void drop_domains();

  std::shared_ptr<auth::AccessPolicy> policy_;
  std::string realm_;
  SoupAuthDomain* basic_ = nullptr;
  SoupAuthDomain* digest_ = nullptr;
};

}  // namespace gms::http
