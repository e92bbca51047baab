#include "core/session_pool.h"

#include <sys/random.h>

#include <cerrno>
#include <stdexcept>
#include <string>

struct _GmsSessionPool {
  GstRTSPSessionPool parent;
};

G_DEFINE_FINAL_TYPE(GmsSessionPool, gms_session_pool, GST_TYPE_RTSP_SESSION_POOL)

namespace gms {

std::string random_token() {
  unsigned char bytes[16];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      throw std::runtime_error("getrandom failed");
    }
    got += static_cast<size_t>(n);
  }
  static const char hex[] = "0123456789abcdef";
  std::string s;
  s.reserve(32);
  for (unsigned char b : bytes) {
    s += hex[b >> 4];
    s += hex[b & 15];
  }
  return s;
}

}  // namespace gms

static gchar* gms_session_pool_create_session_id(GstRTSPSessionPool*) noexcept {
  try {
    return g_strdup(gms::random_token().c_str());
  } catch (...) {
    return nullptr;  // the library answers 503 for a session it cannot make
  }
}

static void gms_session_pool_class_init(GmsSessionPoolClass* klass) {
  GST_RTSP_SESSION_POOL_CLASS(klass)->create_session_id = gms_session_pool_create_session_id;
}

static void gms_session_pool_init(GmsSessionPool*) {}

GstRTSPSessionPool* gms_session_pool_new(void) {
  return GST_RTSP_SESSION_POOL(g_object_new(GMS_TYPE_SESSION_POOL, nullptr));
}

namespace gms {

void for_each_viewer(GstRTSPSessionPool* pool,
                     const std::function<void(GstRTSPSessionMedia*, GstRTSPMedia*)>& f) {
  using Fn = std::function<void(GstRTSPSessionMedia*, GstRTSPMedia*)>;
  GList* none = gst_rtsp_session_pool_filter(
      pool,
      [](GstRTSPSessionPool*, GstRTSPSession* session, gpointer data) noexcept {
        gst_rtsp_session_filter(
            session,
            [](GstRTSPSession*, GstRTSPSessionMedia* sm, gpointer data) noexcept {
              GstRTSPMedia* media = gst_rtsp_session_media_get_media(sm);
              if (media && (gst_rtsp_media_get_transport_mode(media) & GST_RTSP_TRANSPORT_MODE_PLAY))
                (*static_cast<const Fn*>(data))(sm, media);
              return GST_RTSP_FILTER_KEEP;
            },
            data);
        return GST_RTSP_FILTER_KEEP;
      },
      const_cast<Fn*>(&f));
  g_list_free_full(none, g_object_unref);
}

}  // namespace gms
