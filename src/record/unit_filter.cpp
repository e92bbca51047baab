#include "record/unit_filter.h"

#include <gst/rtp/gstrtpbuffer.h>

#include "core/log.h"
#include "gms/buffer_probe.h"

namespace gms::record {
namespace {

struct Filter {
  bool h265 = false;
  std::string path;
  InputDropsPtr drops;
  gint64 logged = 0;  // the pad's streaming thread only
};

bool refused(bool h265, const guint8* payload, guint size) {
  if (size == 0)
    return false;  // the depayloader skips it quietly
  if (h265)
    return ((payload[0] >> 1) & 0x3f) == 50;
  const unsigned type = payload[0] & 0x1f;
  return type == 0 || type == 26 || type == 27 || type == 30 || type == 31;
}

// True when `buf` is to be dropped.
bool drop(Filter& f, GstBuffer* buf) {
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(buf, GST_MAP_READ, &rtp))
    return false;
  const bool out = refused(f.h265, static_cast<const guint8*>(gst_rtp_buffer_get_payload(&rtp)),
                           gst_rtp_buffer_get_payload_len(&rtp));
  gst_rtp_buffer_unmap(&rtp);
  if (!out)
    return false;
  const uint64_t n = f.drops->refused_packets.fetch_add(1, std::memory_order_relaxed) + 1;
  f.drops->changed();
  const gint64 now = g_get_monotonic_time();
  if (f.logged == 0 || now - f.logged >= 10 * G_USEC_PER_SEC) {
    f.logged = now;
    GMS_LOG_WARN("recording %s: dropped packets its %s depayloader refuses (%llu so far)",
                 f.path.c_str(), f.h265 ? "H.265" : "H.264", static_cast<unsigned long long>(n));
  }
  return true;
}

GstPadProbeReturn probe(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
  auto& f = *static_cast<Filter*>(data);
  return drop_buffers(info, [&](GstBuffer* b) { return drop(f, b); });
}

}  // namespace

void drop_refused_units(GstPad* pad, const std::string& encoding, const std::string& path,
                        InputDropsPtr drops) {
  const bool h264 = g_ascii_strcasecmp(encoding.c_str(), "H264") == 0;
  const bool h265 = g_ascii_strcasecmp(encoding.c_str(), "H265") == 0;
  if (!h264 && !h265)
    return;
  auto* f = new Filter{h265, path, std::move(drops)};
  gst_pad_add_probe(pad, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                    probe, f, [](gpointer p) { delete static_cast<Filter*>(p); });
}

}  // namespace gms::record
