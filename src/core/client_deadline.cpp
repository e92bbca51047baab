#include "core/client_deadline.h"

#include "gms/ref.h"

namespace gms {
namespace {

struct Deadline {
  GWeakRef client;
  ClientCheck check;
};

gboolean on_deadline(gpointer data) noexcept {
  auto* d = static_cast<Deadline*>(data);
  if (auto* c = static_cast<GstRTSPClient*>(g_weak_ref_get(&d->client))) {
    auto held = Ref<GstRTSPClient>::adopt(c);
    d->check(c);
  }
  return G_SOURCE_REMOVE;
}

void free_deadline(gpointer data) noexcept {
  auto* d = static_cast<Deadline*>(data);
  g_weak_ref_clear(&d->client);
  delete d;
}

}  // namespace

void after_deadline(GstRTSPClient* client, GMainContext* control,
                    std::chrono::milliseconds timeout, ClientCheck check) {
  auto* d = new Deadline{{}, check};
  g_weak_ref_init(&d->client, client);
  GSource* src = g_timeout_source_new(static_cast<guint>(timeout.count()));
  g_source_set_callback(src, on_deadline, d, free_deadline);
  g_source_attach(src, control);
  g_source_unref(src);
}

}  // namespace gms
