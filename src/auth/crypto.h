// The few cryptographic primitives authentication needs, on OpenSSL.
#pragma once

#include <cstddef>
#include <string>

namespace gms::auth {

// `bytes` random bytes from the kernel's generator, as lower-case hex.
std::string random_hex(size_t bytes);

std::string md5_hex(const std::string& data);

// Digest's HA1: MD5(user:realm:password).
std::string digest_ha1(const std::string& user, const std::string& realm,
                       const std::string& password);

// PBKDF2-HMAC-SHA256 of `password` with the (hex) salt, 32 bytes as hex.
std::string pbkdf2_hex(const std::string& password, const std::string& salt_hex,
                       unsigned iterations);

// HMAC-SHA256 of `data` under `key`, as hex.
std::string hmac_sha256_hex(const std::string& key, const std::string& data);

// Compares in a time that does not depend on where the strings differ.
bool equal_constant_time(const std::string& a, const std::string& b);

}  // namespace gms::auth
