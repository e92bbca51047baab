#include "session/pool_snapshot.h"

namespace gms::session {

std::map<std::string, Ref<GstRTSPSession>> pool_snapshot(GstRTSPSessionPool* pool) {
  std::map<std::string, Ref<GstRTSPSession>> out;
  GList* all = gst_rtsp_session_pool_filter(
      pool,
      [](GstRTSPSessionPool*, GstRTSPSession*, gpointer) noexcept -> GstRTSPFilterResult {
        return GST_RTSP_FILTER_REF;
      },
      nullptr);
  for (GList* l = all; l; l = l->next) {
    auto* s = static_cast<GstRTSPSession*>(l->data);
    out.emplace(gst_rtsp_session_get_sessionid(s), Ref<GstRTSPSession>::adopt(s));
  }
  g_list_free(all);
  return out;
}

}  // namespace gms::session
