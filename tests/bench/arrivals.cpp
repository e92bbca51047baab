#include "arrivals.h"

#include <gst/rtp/gstrtpbuffer.h>

#include <cstdlib>

namespace gms::test {
namespace {

uint32_t payload_hash(const guint8* d, gsize n) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (gsize i = 0; i < n; ++i)
    h = (h ^ d[i]) * 16777619u;
  return h;
}

}  // namespace

ArrivalViewer::ArrivalViewer(const std::string& url, const std::string& protocol) {
  // buffer-mode none and latency 0: packets leave rtspsrc as they come.
  pipe_ = gst_parse_launch(("rtspsrc protocols=" + protocol +
                            " latency=0 buffer-mode=none location=" + url +
                            " ! fakesink name=sink sync=false async=false")
                               .c_str(),
                           nullptr);
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipe_), "sink");
  GstPad* pad = gst_element_get_static_pad(sink, "sink");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, this, nullptr);
  gst_object_unref(pad);
  gst_object_unref(sink);
  gst_element_set_state(pipe_, GST_STATE_PLAYING);
}

ArrivalViewer::~ArrivalViewer() {
  gst_element_set_state(pipe_, GST_STATE_NULL);
  gst_object_unref(pipe_);
}

GstPadProbeReturn ArrivalViewer::on_buffer(GstPad*, GstPadProbeInfo* info, gpointer self) {
  auto* v = static_cast<ArrivalViewer*>(self);
  gint64 now = g_get_monotonic_time();
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (gst_rtp_buffer_map(GST_PAD_PROBE_INFO_BUFFER(info), GST_MAP_READ, &rtp)) {
    uint32_t h = payload_hash(static_cast<const guint8*>(gst_rtp_buffer_get_payload(&rtp)),
                              gst_rtp_buffer_get_payload_len(&rtp));
    gst_rtp_buffer_unmap(&rtp);
    std::lock_guard<std::mutex> g(v->lock_);
    v->at_[h].push_back(now);  // the publisher's clip loops: a payload comes once per pass
  }
  return GST_PAD_PROBE_OK;
}

std::vector<double> ArrivalViewer::delays_after(ArrivalViewer& origin, gint64 from, gint64 to) {
  std::vector<double> d;
  std::scoped_lock g(lock_, origin.lock_);
  for (const auto& [h, times] : at_) {
    auto it = origin.at_.find(h);
    if (it == origin.at_.end())
      continue;
    for (gint64 t : times) {
      // The origin's arrival of the same pass: the nearest one.
      gint64 o = it->second.front();
      for (gint64 c : it->second)
        if (std::llabs(t - c) < std::llabs(t - o))
          o = c;
      if ((from && o < from) || (to && o > to))
        continue;
      double ms = double(t - o) / 1000.0;
      if (ms > -1000 && ms < 5000)
        d.push_back(ms);
    }
  }
  return d;
}

}  // namespace gms::test
