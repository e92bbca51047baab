#include "core/capped_thread_pool.h"

#include <gst/rtsp-server/rtsp-client.h>
#include <gst/rtsp-server/rtsp-context.h>

#include <atomic>
#include <cstdint>
#include <new>
#include <string>
#include <utility>

#include "core/log.h"
#include "core/pipeline_cap.h"
#include "mounts/publish_mount.h"

G_BEGIN_DECLS
#define GMS_TYPE_CAPPED_THREAD_POOL (gms_capped_thread_pool_get_type())
G_DECLARE_FINAL_TYPE(GmsCappedThreadPool, gms_capped_thread_pool, GMS, CAPPED_THREAD_POOL,
                     GstRTSPThreadPool)
G_END_DECLS

// The C++ member is constructed in init and destroyed in finalize.
struct _GmsCappedThreadPool {
  GstRTSPThreadPool parent;
  std::shared_ptr<gms::PipelineCap> cap;
};

G_DEFINE_FINAL_TYPE(GmsCappedThreadPool, gms_capped_thread_pool, GST_TYPE_RTSP_THREAD_POOL)

namespace {

// One line per 10 s at most (per process): a flood must not flood the log.
void log_refusal(GstRTSPContext* ctx, const std::string& why, uint64_t refused) {
  static std::atomic<gint64> last{0};
  const gint64 now = g_get_monotonic_time();
  gint64 then = last.load();
  if ((then != 0 && now - then < 10 * G_USEC_PER_SEC) || !last.compare_exchange_strong(then, now))
    return;
  const char* ip = ctx->conn ? gst_rtsp_connection_get_ip(ctx->conn) : nullptr;
  GMS_LOG_WARN("client %s: %s %s refused (503): %s (%llu refused since the start)",
               ip ? ip : "?",
               ctx->request ? gst_rtsp_method_as_text(ctx->request->type_data.request.method) : "?",
               ctx->uri ? ctx->uri->abspath : "", why.c_str(),
               static_cast<unsigned long long>(refused));
}

// A client thread, in the library's find_media() (or an ANNOUNCE's SDP).
GstRTSPThread* get_thread(GstRTSPThreadPool* pool, GstRTSPThreadType type,
                          GstRTSPContext* ctx) noexcept {
  auto* self = GMS_CAPPED_THREAD_POOL(pool);
  if (type == GST_RTSP_THREAD_TYPE_MEDIA && ctx && ctx->media && self->cap) {
    std::string why;
    if (!self->cap->admit(ctx->media, why)) {
      log_refusal(ctx, why, self->cap->refusals());
      if (ctx->client)
        gms::mounts::set_refusal_reason(ctx->client, why);
      return nullptr;
    }
  }
  return GST_RTSP_THREAD_POOL_CLASS(gms_capped_thread_pool_parent_class)
      ->get_thread(pool, type, ctx);
}

}  // namespace

static void gms_capped_thread_pool_finalize(GObject* object) {
  GMS_CAPPED_THREAD_POOL(object)->cap.~shared_ptr();
  G_OBJECT_CLASS(gms_capped_thread_pool_parent_class)->finalize(object);
}

static void gms_capped_thread_pool_class_init(GmsCappedThreadPoolClass* klass) {
  G_OBJECT_CLASS(klass)->finalize = gms_capped_thread_pool_finalize;
  GST_RTSP_THREAD_POOL_CLASS(klass)->get_thread = get_thread;
}

static void gms_capped_thread_pool_init(GmsCappedThreadPool* self) {
  new (&self->cap) std::shared_ptr<gms::PipelineCap>();
}

namespace gms {

GstRTSPThreadPool* new_capped_thread_pool(std::shared_ptr<PipelineCap> cap) {
  auto* pool = GMS_CAPPED_THREAD_POOL(g_object_new(GMS_TYPE_CAPPED_THREAD_POOL, nullptr));
  pool->cap = std::move(cap);
  return GST_RTSP_THREAD_POOL(pool);
}

}  // namespace gms
