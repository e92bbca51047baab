#include "core/abandoned_connection.h"

#include <algorithm>
#include <atomic>
#include <chrono>

#include "core/client_deadline.h"
#include "core/client_guard.h"
#include "core/client_signals.h"
#include "core/log.h"
#include "gms/ref.h"

namespace gms {
namespace {

const char kAbandon[] = "gms-abandoned-connection";

// On the client: written by its thread, read by the control context.
struct Watch {
  std::shared_ptr<ClientPolicy> policy;
  std::atomic<gint64> last_answer{0};  // µs, monotonic
  // A request is being handled: a DESCRIBE may wait for a publisher
  // (wait-publisher) or a file's probe longer than the session timeout.
  std::atomic<bool> busy{false};
  bool had_session = false;  // control context: seen with a session at a check
  gint64 gone_at = 0;  // µs, monotonic: the first check that found its last session gone
};

Watch* watch_of(GstRTSPClient* client) {
  return static_cast<Watch*>(g_object_get_data(G_OBJECT(client), kAbandon));
}

// A client thread, as a request begins (before any other pre-request
// handler that may refuse or wait).
GstRTSPStatusCode on_request(GstRTSPClient* client, GstRTSPContext*, gpointer) noexcept {
  if (Watch* w = watch_of(client))
    w->busy = true;
  return GST_RTSP_STS_OK;
}

// A client thread, for each message it sends.
void on_send_message(GstRTSPClient* client, GstRTSPContext*, GstRTSPMessage* message,
                     gpointer) noexcept {
  Watch* w = watch_of(client);
  if (!w || !message || message->type != GST_RTSP_MESSAGE_RESPONSE)
    return;
  w->last_answer = g_get_monotonic_time();
  w->busy = false;
}

bool has_session(GstRTSPClient* client) {
  GList* sessions = gst_rtsp_client_session_filter(client, nullptr, nullptr);
  const bool any = sessions != nullptr;
  g_list_free_full(sessions, g_object_unref);
  return any;
}

// Control context: whether to keep watching; shuts an abandoned connection.
bool check(GstRTSPClient* client) {
  Watch* w = watch_of(client);
  GstRTSPConnection* conn = gst_rtsp_client_get_connection(client);
  if (!w || !conn)
    return false;
  const gint64 now = g_get_monotonic_time();
  if (has_session(client)) {
    w->had_session = true;
    w->gone_at = 0;
    return true;
  }
  // A session timeout from its last answer, and from the end of its last
  // session: a client may still ask after its session expired (454). The
  // end counts from the check that first found it (never before the end:
  // the check before may have come up to an interval earlier).
  if (w->had_session && w->gone_at == 0)
    w->gone_at = now;
  const gint64 timeout_us = gint64(w->policy->session_timeout.load()) * G_USEC_PER_SEC;
  if (w->busy || now - std::max<gint64>(w->last_answer, w->gone_at) < timeout_us)
    return true;
  GSocket* socket = gst_rtsp_connection_get_read_socket(conn);
  if (!socket)
    return false;
  GMS_LOG_INFO("client %s: no session %u s after its last answer; closed",
               gst_rtsp_connection_get_ip(conn), w->policy->session_timeout.load());
  g_socket_shutdown(socket, TRUE, TRUE, nullptr);
  return false;
}

}  // namespace

void watch_abandoned_connection(GstRTSPClient* client, GMainContext* control,
                                const std::shared_ptr<ClientPolicy>& policy) {
  auto* w = new Watch;
  w->policy = policy;
  w->last_answer = g_get_monotonic_time();
  g_object_set_data_full(G_OBJECT(client), kAbandon, w,
                         [](gpointer d) { delete static_cast<Watch*>(d); });
  const auto interval = std::max(std::chrono::milliseconds(1000),
                                 std::chrono::milliseconds(policy->session_timeout * 250));
  every_interval(client, control, interval, check);
}

void add_abandoned_connection_hooks(ClientSignals& signals) {
  for (const char* sig :
       {"pre-describe-request", "pre-setup-request", "pre-play-request", "pre-pause-request",
        "pre-teardown-request", "pre-get-parameter-request", "pre-set-parameter-request",
        "pre-announce-request", "pre-record-request"})
    signals.connect(sig, G_CALLBACK(on_request), nullptr);
  signals.connect("send-message", G_CALLBACK(on_send_message), nullptr);
}

}  // namespace gms
