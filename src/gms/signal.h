// RAII GObject signal connection.
//
// Disconnects in its destructor if the emitter still lives. A disconnect does
// not wait for an emission running on another thread: stop the emitter first.
#pragma once

#include <glib-object.h>

#include <utility>

namespace gms {

class SignalConnection {
 public:
  SignalConnection() = default;
  SignalConnection(gpointer instance, const char* signal, GCallback cb, gpointer data,
                   GConnectFlags flags = GConnectFlags(0)) {
    g_weak_ref_init(&emitter_, instance);
    id_ = g_signal_connect_data(instance, signal, cb, data, nullptr, flags);
  }
  SignalConnection(const SignalConnection&) = delete;
  SignalConnection& operator=(const SignalConnection&) = delete;
  SignalConnection(SignalConnection&& o) noexcept { take(o); }
  SignalConnection& operator=(SignalConnection&& o) noexcept {
    if (this != &o) {
      disconnect();
      take(o);
    }
    return *this;
  }
  ~SignalConnection() { disconnect(); }

  void disconnect() noexcept {
    if (id_ == 0)
      return;
    if (GObject* obj = static_cast<GObject*>(g_weak_ref_get(&emitter_))) {
      g_signal_handler_disconnect(obj, id_);
      g_object_unref(obj);
    }
    g_weak_ref_clear(&emitter_);
    id_ = 0;
  }
  explicit operator bool() const noexcept { return id_ != 0; }

 private:
  void take(SignalConnection& o) noexcept {
    if (o.id_ == 0)
      return;
    GObject* obj = static_cast<GObject*>(g_weak_ref_get(&o.emitter_));
    g_weak_ref_init(&emitter_, obj);
    if (obj)
      g_object_unref(obj);
    id_ = std::exchange(o.id_, 0);
    g_weak_ref_clear(&o.emitter_);
  }

  GWeakRef emitter_{};
  gulong id_ = 0;
};

// A GSource attached to a context, destroyed with its holder.
class SourceHolder {
 public:
  SourceHolder() = default;
  explicit SourceHolder(GSource* adopted) : src_(adopted) {}
  SourceHolder(const SourceHolder&) = delete;
  SourceHolder& operator=(const SourceHolder&) = delete;
  SourceHolder(SourceHolder&& o) noexcept : src_(std::exchange(o.src_, nullptr)) {}
  SourceHolder& operator=(SourceHolder&& o) noexcept {
    if (this != &o) {
      reset();
      src_ = std::exchange(o.src_, nullptr);
    }
    return *this;
  }
  ~SourceHolder() { reset(); }
  void reset() noexcept {
    if (GSource* s = std::exchange(src_, nullptr)) {
      g_source_destroy(s);
      g_source_unref(s);
    }
  }
  GSource* get() const noexcept { return src_; }

 private:
  GSource* src_ = nullptr;
};

}  // namespace gms
