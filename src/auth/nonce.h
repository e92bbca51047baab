// Digest nonces that need no table: the issue time and an HMAC of it, the
// realm and the client's address under a random key made at start. A nonce
// from another address, with a forged time or from an earlier run fails the
// HMAC; an old one is stale.
#pragma once

#include <cstdint>
#include <string>

namespace gms::auth {

class NonceMaker {
 public:
  enum class Check { kFresh, kStale, kForged };

  NonceMaker(std::string realm, unsigned lifetime_s);
  std::string make(const std::string& ip, int64_t now_s) const;
  Check check(const std::string& nonce, const std::string& ip, int64_t now_s) const;
  // A key for other HMACs of this run (cache keys).
  const std::string& key() const { return key_; }

 private:
  std::string mac(const std::string& stamp, const std::string& ip) const;
  std::string key_;
  std::string realm_;
  unsigned lifetime_;
};

}  // namespace gms::auth
