// The body of a pad probe that drops some buffers: of a buffer list, only
// those, the rest going on as one list.
#pragma once

#include <gst/gst.h>

#include <vector>

namespace gms {

// `info`'s buffer, or its list, less the buffers for which `drop(buffer)`
// is true. `drop` is called once per buffer, in order (it may count).
template <typename Drop>
GstPadProbeReturn drop_buffers(GstPadProbeInfo* info, Drop&& drop) {
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    return drop(GST_PAD_PROBE_INFO_BUFFER(info)) ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
  if (!(info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST))
    return GST_PAD_PROBE_OK;
  GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
  std::vector<guint> dropped;
  const guint n = gst_buffer_list_length(list);
  for (guint i = 0; i < n; ++i)
    if (drop(gst_buffer_list_get(list, i)))
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

}  // namespace gms
