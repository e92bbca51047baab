#include "auth/nonce.h"

#include <cinttypes>
#include <cstdio>

#include "auth/crypto.h"

namespace gms::auth {

NonceMaker::NonceMaker(std::string realm, unsigned lifetime_s)
    : key_(random_hex(32)), realm_(std::move(realm)), lifetime_(lifetime_s) {}

std::string NonceMaker::mac(const std::string& stamp, const std::string& ip) const {
  return hmac_sha256_hex(key_, stamp + ":" + realm_ + ":" + ip).substr(0, 32);
}

std::string NonceMaker::make(const std::string& ip, int64_t now_s) const {
  char stamp[17];
  snprintf(stamp, sizeof stamp, "%016" PRIx64, uint64_t(now_s));
  return stamp + mac(stamp, ip);
}

NonceMaker::Check NonceMaker::check(const std::string& nonce, const std::string& ip,
                                    int64_t now_s) const {
  if (nonce.size() != 48)
    return Check::kForged;
  std::string stamp = nonce.substr(0, 16);
  if (!equal_constant_time(mac(stamp, ip), nonce.substr(16)))
    return Check::kForged;
  int64_t issued = int64_t(strtoull(stamp.c_str(), nullptr, 16));
  if (issued > now_s + 1 || now_s - issued >= int64_t(lifetime_))
    return Check::kStale;
  return Check::kFresh;
}

}  // namespace gms::auth
