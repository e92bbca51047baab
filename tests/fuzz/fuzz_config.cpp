// Configuration files come from users and, with the HTTP API writing them
// back, from the server itself: any bytes must give a Config or a
// ConfigError, never a crash, a hang or an uncaught exception of another
// kind.
#include <gst-mediaserver/config.h>

#include <gst/gst.h>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gst_init(nullptr, nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    gms::Config cfg = gms::Config::from_data(text, "fuzz.conf");
    cfg.validate();
    for (const auto& p : cfg.paths)
      (void)cfg.find_path(p.name);
  } catch (const gms::ConfigError& e) {
    for (const auto& issue : e.issues())
      (void)issue.to_string();
  }
  return 0;
}
