// A proxy's back end describes its streams in any SDP it likes. rtspsrc
// turns each m= line into caps the way this target does (the library's SDP
// parser, then the media's and the session's attributes into the caps); of
// ours, the recorder reads those caps to pick a depayloader and parser for
// each track it records. No SDP may crash either, and the choice must be
// one of the recorder's own chains.
#include <gst/gst.h>
#include <gst/sdp/gstsdpmessage.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "record/path_recorder.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gst_init(nullptr, nullptr);
  return 0;
}

namespace {

void track(const GstSDPMessage* sdp, const GstSDPMedia* media, gint pt) {
  GstCaps* caps = gst_sdp_media_get_caps_from_media(media, pt);
  if (!caps)
    return;
  if (gst_sdp_media_attributes_to_caps(media, caps) != GST_SDP_OK ||
      gst_sdp_message_attributes_to_caps(sdp, caps) != GST_SDP_OK) {
    gst_caps_unref(caps);
    return;
  }
  caps = gst_caps_make_writable(caps);
  gst_structure_set_name(gst_caps_get_structure(caps, 0), "application/x-rtp");
  bool video = false;
  std::string parsed;
  std::string chain = gms::record::depay_chain(caps, video, &parsed);
  if (!chain.empty() && (chain.find("depay") == std::string::npos || parsed.empty()))
    abort();  // a chain must start with a depayloader and say what it gives
  gst_caps_unref(caps);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  GstSDPMessage* sdp = nullptr;
  gst_sdp_message_new(&sdp);
  if (gst_sdp_message_parse_buffer(data, guint(size), sdp) == GST_SDP_OK) {
    for (guint i = 0; i < gst_sdp_message_medias_len(sdp) && i < 64; ++i) {
      const GstSDPMedia* media = gst_sdp_message_get_media(sdp, i);
      // rtspsrc takes the first format of each m= line.
      const gchar* fmt = gst_sdp_media_get_format(media, 0);
      if (fmt)
        track(sdp, media, atoi(fmt));
    }
  }
  gst_sdp_message_free(sdp);
  return 0;
}
