#include "mounts/ssrc_unifier.h"

#include <gst/rtp/gstrtpbuffer.h>

namespace gms::mounts {
namespace {

struct State {
  // Only the pad's streaming thread writes them.
  bool have_ssrc = false;
  guint32 ssrc = 0;
};

// RTCP packet types (RFC 3550, 4585: 192-223) share the second byte with
// RTP's marker bit and payload type; RTP and RTCP may share a port.
bool is_rtcp(const guint8* data, gsize size) { return size >= 2 && data[1] >= 192 && data[1] <= 223; }

// The buffer, or a writable copy with the SSRC replaced.
GstBuffer* unified(State& st, GstBuffer* buffer) {
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ))
    return buffer;
  bool rtp = map.size >= 12 && (map.data[0] >> 6) == 2 && !is_rtcp(map.data, map.size);
  guint32 ssrc = rtp ? GST_READ_UINT32_BE(map.data + 8) : 0;
  gst_buffer_unmap(buffer, &map);
  if (!rtp)
    return buffer;
  if (!st.have_ssrc) {
    st.have_ssrc = true;
    st.ssrc = ssrc;
    return buffer;
  }
  if (ssrc == st.ssrc)
    return buffer;
  buffer = gst_buffer_make_writable(buffer);
  guint8 bytes[4];
  GST_WRITE_UINT32_BE(bytes, st.ssrc);
  gst_buffer_fill(buffer, 8, bytes, sizeof bytes);
  return buffer;
}

GstPadProbeReturn on_data(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
  State& st = *static_cast<State*>(data);
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GST_PAD_PROBE_INFO_DATA(info) = unified(st, GST_PAD_PROBE_INFO_BUFFER(info));
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList* list = gst_buffer_list_make_writable(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
    for (guint i = 0; i < gst_buffer_list_length(list); ++i) {
      GstBuffer* b = gst_buffer_list_get(list, i);
      GstBuffer* u = unified(st, gst_buffer_ref(b));
      if (u == b) {
        gst_buffer_unref(u);
        continue;
      }
      gst_buffer_list_remove(list, i, 1);
      gst_buffer_list_insert(list, gint(i), u);
    }
    GST_PAD_PROBE_INFO_DATA(info) = list;
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace

void unify_ssrc(GstPad* pad) {
  gst_pad_add_probe(pad, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                    on_data, new State(), [](gpointer p) { delete static_cast<State*>(p); });
}

}  // namespace gms::mounts
