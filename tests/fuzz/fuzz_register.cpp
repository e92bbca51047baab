// REGISTER and DEREGISTER requests reach us from any back end that connects,
// with or without credentials: parsing and the Digest check take any bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "proxy/register.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  gms::proxy::RegisterRequest req;
  std::string why;
  if (gms::proxy::parse_register(text, req, why))
    (void)gms::proxy::digest_ok(req.authorization, req.method, "gst-mediaserver", "0123abcd",
                                "user", "secret");
  // The header alone, as a client could send any Authorization value.
  (void)gms::proxy::digest_ok(text, "REGISTER", "gst-mediaserver", "0123abcd", "user", "secret");
  return 0;
}
