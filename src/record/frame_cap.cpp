#include "record/frame_cap.h"

#include <gst/rtp/gstrtpbuffer.h>

#include <vector>

#include "core/log.h"

namespace gms::record {
namespace {

// One pad's frame. The probe runs on that pad's streaming thread only.
struct FrameState {
  std::string path;
  size_t max_bytes;
  bool open = false;  // a frame has begun (its timestamp is `ts`)
  uint32_t ts = 0;
  size_t bytes = 0;
  bool cutting = false;
  uint64_t cut = 0;  // frames cut so far
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
    st.cut++;
    gint64 now = g_get_monotonic_time();
    if (st.logged == 0 || now - st.logged >= 10 * G_USEC_PER_SEC) {
      st.logged = now;
      GMS_LOG_WARN("recording %s: access unit over %zu MB cut (%llu so far): the publisher sent "
                   "a frame that does not end",
                   st.path.c_str(), st.max_bytes >> 20, static_cast<unsigned long long>(st.cut));
    }
  }
  if (marker)
    st.open = false;
  return drop;
}

GstPadProbeReturn probe(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
  auto& st = *static_cast<FrameState*>(data);
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    return over(st, GST_PAD_PROBE_INFO_BUFFER(info)) ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
  GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
  std::vector<guint> dropped;
  guint n = gst_buffer_list_length(list);
  for (guint i = 0; i < n; ++i)
    if (over(st, gst_buffer_list_get(list, i)))
      dropped.push_back(i);
  if (dropped.empty())
    return GST_PAD_PROBE_OK;
  if (dropped.size() == n)
    return GST_PAD_PROBE_DROP;
  list = gst_buffer_list_make_writable(list);
  for (auto it = dropped.rbegin(); it != dropped.rend(); ++it)
    gst_buffer_list_remove(list, *it, 1);
  GST_PAD_PROBE_INFO_DATA(info) = list;
  return GST_PAD_PROBE_OK;
}

}  // namespace

void cap_frames(GstPad* pad, const std::string& path, size_t max_bytes) {
  auto* st = new FrameState{path, max_bytes};
  gst_pad_add_probe(pad, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                    probe, st, [](gpointer p) { delete static_cast<FrameState*>(p); });
}

}  // namespace gms::record
