#include "moof_guard.h"

#include <cstring>

#include "gms/ref.h"

GST_DEBUG_CATEGORY_STATIC(gms_moof_guard_debug);
#define GST_CAT_DEFAULT gms_moof_guard_debug

namespace gms {
namespace {

uint32_t be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

}  // namespace

MoofGuard::Before MoofGuard::buffer(const uint8_t* head, size_t head_size, uint64_t size) {
  Before b;
  b.retype_at = pending_;
  pending_.reset();
  // mp4mux writes each moof as one buffer holding the whole box (its mdat
  // header and media follow in others); anything else is left as it is.
  b.hide = head_size >= 8 && std::memcmp(head + 4, "moof", 4) == 0 && be32(head) == size;
  if (b.hide)
    pending_ = pos_ + 4;
  pos_ += size;
  return b;
}

std::optional<uint64_t> MoofGuard::seek(uint64_t to) {
  auto due = pending_;
  pending_.reset();
  pos_ = to;
  return due;
}

std::optional<uint64_t> MoofGuard::end() {
  auto due = pending_;
  pending_.reset();
  return due;
}

void MoofGuard::attach(GstElement* mux, GstElement* sink) {
  static gsize debug_once = 0;
  if (g_once_init_enter(&debug_once)) {
    GST_DEBUG_CATEGORY_INIT(gms_moof_guard_debug, "msmoofguard", 0, "mediaserver moof retyping");
    g_once_init_leave(&debug_once, 1);
  }
  auto src = Ref<GstPad>::adopt(gst_element_get_static_pad(mux, "src"));
  auto sink_pad = Ref<GstPad>::adopt(gst_element_get_static_pad(sink, "sink"));
  if (!src || !sink_pad)
    return;
  // The guard lives as long as the probe; the probe as long as the pad.
  gst_pad_add_probe(src.get(),
                    GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST |
                                    GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                    probe, new MoofGuard(), [](gpointer g) { delete static_cast<MoofGuard*>(g); });
}

bool MoofGuard::retype(GstPad* sink, uint64_t at, uint64_t resume) {
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_BYTES);
  segment.start = at;
  if (!gst_pad_send_event(sink, gst_event_new_segment(&segment)))
    return false;
  const GstFlowReturn written = gst_pad_chain(sink, gst_buffer_new_memdup("moof", 4));
  segment.start = resume;
  const bool back = gst_pad_send_event(sink, gst_event_new_segment(&segment));
  return written == GST_FLOW_OK && back;
}

// The muxer's streaming thread (the only one that uses a guard). A retype
// goes to the sink before the data that follows the moof, so the moof is
// whole in the file by then.
GstPadProbeReturn MoofGuard::probe(GstPad* pad, GstPadProbeInfo* info, gpointer data) noexcept {
  auto* self = static_cast<MoofGuard*>(data);
  std::optional<uint64_t> due;
  uint64_t resume = self->pos_;
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    uint8_t head[8] = {};
    const gsize got = gst_buffer_extract(buffer, 0, head, sizeof head);
    Before b = self->buffer(head, got, gst_buffer_get_size(buffer));
    due = b.retype_at;
    if (b.hide) {
      buffer = gst_buffer_make_writable(buffer);
      gst_buffer_fill(buffer, 4, "free", 4);
      GST_PAD_PROBE_INFO_DATA(info) = buffer;
    }
  } else if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    // Never seen from mp4mux: nothing in a list is hidden, only counted.
    GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    due = self->end();
    for (guint i = 0; i < gst_buffer_list_length(list); ++i)
      self->pos_ += gst_buffer_get_size(gst_buffer_list_get(list, i));
  } else {
    GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) == GST_EVENT_SEGMENT) {
      const GstSegment* segment = nullptr;
      gst_event_parse_segment(event, &segment);
      if (segment->format == GST_FORMAT_BYTES)
        due = self->seek(segment->start);
    } else if (GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
      due = self->end();
    }
  }
  if (due) {
    auto sink = Ref<GstPad>::adopt(gst_pad_get_peer(pad));
    if (!sink || !retype(sink.get(), *due, resume))
      GST_WARNING("the moof at byte %" G_GUINT64_FORMAT " stays hidden (typed free): its "
                  "fragment is skipped by readers", *due - 4);
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace gms
