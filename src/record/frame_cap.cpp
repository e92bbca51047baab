#include "record/frame_cap.h"

#include <gst/rtp/gstrtpbuffer.h>

#include "core/log.h"
#include "gms/buffer_probe.h"

namespace gms::record {
namespace {

// One pad's frame. The probe runs on that pad's streaming thread only.
struct FrameState {
  std::string path;
  size_t max_bytes;
  InputDropsPtr drops;
  bool open = false;  // a frame has begun (its timestamp is `ts`)
  uint32_t ts = 0;
  size_t bytes = 0;
  bool cutting = false;
  gint64 logged = 0;
};

// True when `buf` is to be dropped.
bool over(FrameState& st, GstBuffer* buf) {
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(buf, GST_MAP_READ, &rtp))
    return false;  // not RTP: the depayloader says so
  uint32_t ts = gst_rtp_buffer_get_timestamp(&rtp);
  size_t size = gst_rtp_buffer_get_payload_len(&rtp);
  bool marker = gst_rtp_buffer_get_marker(&rtp);
  gst_rtp_buffer_unmap(&rtp);
  if (!st.open || ts != st.ts) {
    st.open = true;
    st.ts = ts;
    st.bytes = 0;
    st.cutting = false;
  }
  st.bytes += size;
  bool drop = st.cutting;
  if (!drop && st.bytes > st.max_bytes) {
    st.cutting = drop = true;
    const uint64_t cut = st.drops->oversized_frames.fetch_add(1, std::memory_order_relaxed) + 1;
    st.drops->changed();
    gint64 now = g_get_monotonic_time();
    if (st.logged == 0 || now - st.logged >= 10 * G_USEC_PER_SEC) {
      st.logged = now;
      GMS_LOG_WARN("recording %s: access unit over %zu MB cut (%llu so far): the publisher sent "
                   "a frame that does not end",
                   st.path.c_str(), st.max_bytes >> 20, static_cast<unsigned long long>(cut));
    }
  }
  if (marker)
    st.open = false;
  return drop;
}

GstPadProbeReturn probe(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
  auto& st = *static_cast<FrameState*>(data);
  return drop_buffers(info, [&](GstBuffer* b) { return over(st, b); });
}

}  // namespace

void cap_frames(GstPad* pad, const std::string& path, InputDropsPtr drops, size_t max_bytes) {
  auto* st = new FrameState{path, max_bytes, std::move(drops)};
  gst_pad_add_probe(pad, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                    probe, st, [](gpointer p) { delete static_cast<FrameState*>(p); });
}

}  // namespace gms::record
