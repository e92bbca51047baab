#include "auth/register_auth.h"

#include <gst/rtsp/gstrtspmessage.h>

#include <map>

#include "auth/crypto.h"

namespace gms::auth {
namespace {

// The Digest parameters of an Authorization value, parsed by the library.
std::map<std::string, std::string> digest_params(const std::string& authorization) {
  std::map<std::string, std::string> out;
  GstRTSPMessage* msg = nullptr;
  if (gst_rtsp_message_new_request(&msg, GST_RTSP_OPTIONS, "*") != GST_RTSP_OK)
    return out;
  gst_rtsp_message_add_header(msg, GST_RTSP_HDR_AUTHORIZATION, authorization.c_str());
  GstRTSPAuthCredential** creds =
      gst_rtsp_message_parse_auth_credentials(msg, GST_RTSP_HDR_AUTHORIZATION);
  for (GstRTSPAuthCredential** c = creds; c && *c; ++c) {
    if ((*c)->scheme != GST_RTSP_AUTH_DIGEST)
      continue;
    for (GstRTSPAuthParam** p = (*c)->params; p && *p; ++p)
      if ((*p)->name && (*p)->value)
        out.emplace((*p)->name, (*p)->value);
    break;
  }
  if (creds)
    gst_rtsp_auth_credentials_free(creds);
  gst_rtsp_message_free(msg);
  return out;
}

}  // namespace

bool register_allowed(const Authenticator& core, const std::string& authorization,
                      const std::string& method, const std::string& nonce) {
  if (authorization.empty())
    return false;
  auto p = digest_params(authorization);
  const std::string name = p["username"], uri = p["uri"];
  if (name.empty() || uri.empty() || p["realm"] != core.settings().realm ||
      !equal_constant_time(p["nonce"], nonce))
    return false;
  auto user = core.user(name);
  std::string ha1 = core.ha1_of(name);
  if (!user || ha1.empty() || !user->allows_anywhere(kPublish | kAdmin))
    return false;
  const std::string ha2 = md5_hex(method + ":" + uri);
  return equal_constant_time(p["response"], md5_hex(ha1 + ":" + nonce + ":" + ha2));
}

}  // namespace gms::auth
