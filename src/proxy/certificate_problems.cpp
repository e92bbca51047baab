#include "proxy/certificate_problems.h"

#include <utility>

namespace gms::proxy {

std::string certificate_problems(GTlsCertificateFlags errors) {
  static const std::pair<GTlsCertificateFlags, const char*> kWords[] = {
      {G_TLS_CERTIFICATE_UNKNOWN_CA, "not signed by a trusted CA"},
      {G_TLS_CERTIFICATE_BAD_IDENTITY, "not for this host"},
      {G_TLS_CERTIFICATE_NOT_ACTIVATED, "not valid yet"},
      {G_TLS_CERTIFICATE_EXPIRED, "expired"},
      {G_TLS_CERTIFICATE_REVOKED, "revoked"},
      {G_TLS_CERTIFICATE_INSECURE, "made with an insecure algorithm"},
      {G_TLS_CERTIFICATE_GENERIC_ERROR, "unusable"},
  };
  std::string out;
  for (const auto& [flag, words] : kWords)
    if (errors & flag)
      out += (out.empty() ? "" : ", ") + std::string(words);
  return out.empty() ? "unusable" : out;
}

}  // namespace gms::proxy
