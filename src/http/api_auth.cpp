#include "http/api_auth.h"

#include <gst-mediaserver/server.h>
#include <libsoup/soup.h>

#include "gms/ref.h"
#include "http/api_model.h"
#include "http/http_log.h"

namespace gms::http {
namespace {

// Basic: the password against the user's slow hash.
gboolean check_basic(SoupAuthDomain*, SoupServerMessage*, const char* user, const char* password,
                     gpointer data) noexcept {
  const auto* users = static_cast<const ApiUsers*>(data);
  try {
    return user && password && users->check_password(user, password);
  } catch (...) {
    return FALSE;
  }
}

// Digest: libsoup wants MD5(user:realm:password), which is what we keep.
char* digest_ha1(SoupAuthDomain*, SoupServerMessage*, const char* user, gpointer data) noexcept {
  const auto* users = static_cast<const ApiUsers*>(data);
  if (!user)
    return nullptr;
  try {
    std::string ha1 = users->ha1(user);
    return ha1.empty() ? nullptr : g_strdup(ha1.c_str());
  } catch (...) {
    return nullptr;
  }
}

void respond_json(SoupServerMessage* msg, unsigned status, const std::string& why) {
  std::string body = error_json(why);
  soup_server_message_set_status(msg, status, nullptr);
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, body.data(),
                                   body.size());
}

}  // namespace

ApiAuth::ApiAuth(ApiUsers users) : users_(std::move(users)) {}

ApiAuth::~ApiAuth() { drop_domains(); }

void ApiAuth::drop_domains() {
  if (basic_)
    g_object_unref(basic_);
  if (digest_)
    g_object_unref(digest_);
  basic_ = digest_ = nullptr;
}

// Made at the first request, and again when a reload changes the realm.
void ApiAuth::make_domains(const std::string& realm) {
  if (basic_ && realm == realm_)
    return;
  drop_domains();
  realm_ = realm;
  basic_ = soup_auth_domain_basic_new("realm", realm.c_str(), nullptr);
  // The domains go before this object (drop_domains in the destructor).
  soup_auth_domain_basic_set_auth_callback(basic_, check_basic, &users_, nullptr);
  digest_ = soup_auth_domain_digest_new("realm", realm.c_str(), nullptr);
  soup_auth_domain_digest_set_auth_callback(digest_, digest_ha1, &users_, nullptr);
}

bool ApiAuth::allow(SoupServer* server, SoupServerMessage* msg, const std::string& method,
                    const std::string& path) {
  if (!active())
    return true;  // no users: the API listens on loopback only
  make_domains(users_.realm());
  const bool basic_ok = soup_server_is_https(server) || users_.basic_over_plain();
  GCharPtr user;
  if (basic_ok)
    user.reset(soup_auth_domain_accepts(basic_, msg));
  if (!user)
    user.reset(soup_auth_domain_accepts(digest_, msg));
  const char* peer = soup_server_message_get_remote_host(msg);
  if (!user) {
    if (soup_message_headers_get_one(soup_server_message_get_request_headers(msg),
                                     "Authorization")) {
      users_.count_failure();
      HTTP_LOG_INFO("HTTP API: %s %s from %s: wrong credentials", method.c_str(),
                   redact_secrets(path).c_str(), peer ? peer : "?");
    }
    respond_json(msg, SOUP_STATUS_UNAUTHORIZED, "authentication needed");
    soup_auth_domain_challenge(digest_, msg);
    if (basic_ok)
      soup_auth_domain_challenge(basic_, msg);
    return false;
  }
  const bool read = method == "GET" || method == "HEAD";
  const bool ok = users_.may(user.get(), !read, path);
  if (!ok) {
    HTTP_LOG_INFO("HTTP API: %s %s: user %s lacks the role", method.c_str(),
                 redact_secrets(path).c_str(), user.get());
    respond_json(msg, SOUP_STATUS_FORBIDDEN, std::string("user ") + user.get() +
                                                 " may not " + method + " here");
    return false;
  }
  return true;
}

}  // namespace gms::http
