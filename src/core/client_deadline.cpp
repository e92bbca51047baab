#include "core/client_deadline.h"

#include "gms/ref.h"

namespace gms {
namespace {

struct Deadline {
  GWeakRef client;
  ClientCheck once;     // after_deadline()
  ClientRepeat repeat;  // every_interval()
};

gboolean on_deadline(gpointer data) noexcept {
  auto* d = static_cast<Deadline*>(data);
  auto* c = static_cast<GstRTSPClient*>(g_weak_ref_get(&d->client));
  if (!c)
    return G_SOURCE_REMOVE;
  auto held = Ref<GstRTSPClient>::adopt(c);
  if (d->repeat)
    return d->repeat(c) ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
  d->once(c);
  return G_SOURCE_REMOVE;
}

void free_deadline(gpointer data) noexcept {
  auto* d = static_cast<Deadline*>(data);
  g_weak_ref_clear(&d->client);
  delete d;
}

void attach(GstRTSPClient* client, GMainContext* control, std::chrono::milliseconds timeout,
            Deadline* d) {
  g_weak_ref_init(&d->client, client);
  GSource* src = g_timeout_source_new(static_cast<guint>(timeout.count()));
  g_source_set_callback(src, on_deadline, d, free_deadline);
  g_source_attach(src, control);
  g_source_unref(src);
}

}  // namespace

void after_deadline(GstRTSPClient* client, GMainContext* control,
                    std::chrono::milliseconds timeout, ClientCheck check) {
  attach(client, control, timeout, new Deadline{{}, check, nullptr});
}

void every_interval(GstRTSPClient* client, GMainContext* control,
                    std::chrono::milliseconds interval, ClientRepeat check) {
  attach(client, control, interval, new Deadline{{}, nullptr, check});
}

}  // namespace gms
