#include "session/record_liveness.h"

#include <gst/rtsp-server/rtsp-session.h>

namespace gms::session {
namespace {

bool records(GstRTSPSession* session) {
  bool found = false;
  GList* none = gst_rtsp_session_filter(
      session,
      [](GstRTSPSession*, GstRTSPSessionMedia* sm, gpointer found) noexcept {
        GstRTSPMedia* media = gst_rtsp_session_media_get_media(sm);
        if (media && (gst_rtsp_media_get_transport_mode(media) & GST_RTSP_TRANSPORT_MODE_RECORD))
          *static_cast<bool*>(found) = true;
        return GST_RTSP_FILTER_KEEP;
      },
      &found);
  g_list_free_full(none, g_object_unref);
  return found;
}

}  // namespace

void touch_record_sessions(GstRTSPClient* client) {
  GList* none = gst_rtsp_client_session_filter(
      client,
      [](GstRTSPClient*, GstRTSPSession* session, gpointer) noexcept {
        if (records(session))
          gst_rtsp_session_touch(session);
        return GST_RTSP_FILTER_KEEP;
      },
      nullptr);
  g_list_free_full(none, g_object_unref);
}

}  // namespace gms::session
