#include "digest.h"

#include "auth/crypto.h"

namespace gms::test {

std::string challenge_param(const std::string& challenge, const std::string& name) {
  auto b = challenge.find(name + "=\"");
  if (b == std::string::npos)
    return {};
  b += name.size() + 2;
  return challenge.substr(b, challenge.find('"', b) - b);
}

std::string digest_header(const std::string& user, const std::string& pw,
                          const std::string& method, const std::string& uri,
                          const std::string& nonce) {
  std::string ha1 = auth::digest_ha1(user, "gst-mediaserver", pw);
  std::string resp = auth::md5_hex(ha1 + ":" + nonce + ":" + auth::md5_hex(method + ":" + uri));
  return "Authorization: Digest username=\"" + user + "\", realm=\"gst-mediaserver\", nonce=\"" +
         nonce + "\", uri=\"" + uri + "\", response=\"" + resp + "\"\r\n";
}

}  // namespace gms::test
