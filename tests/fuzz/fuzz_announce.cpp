// The SDP of an ANNOUNCE: checked before anything is built from it.
#include <gst/gst.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "mounts/announce_check.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gst_init(nullptr, nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = gms::mounts::check_announce_body(data, static_cast<guint>(size));
  if (r.ok && (r.tracks == 0 || r.tracks > gms::mounts::kMaxPublishedTracks))
    abort();  // accepted a publisher with no track or more than the cap
  return 0;
}
