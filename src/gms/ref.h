// RAII holders for GLib/GStreamer references.
//
// Ref<T> holds exactly one reference. Every construction states the transfer
// mode of the pointer it takes: Ref<T>::adopt() for (transfer full) returns
// (floating references are sunk), Ref<T>::borrow() for (transfer none).
// release() hands the reference back to a C API that takes ownership.
#pragma once

#include <glib-object.h>
#include <gst/gst.h>

#include <memory>
#include <utility>

namespace gms {

// Default traits: GObject and every GstObject (GInitiallyUnowned) subclass.
template <typename T>
struct RefTraits {
  static void ref(T* p) { g_object_ref(p); }
  static void unref(T* p) { g_object_unref(p); }
  static void sink(T* p) {
    if (g_object_is_floating(p))
      g_object_ref_sink(p);
  }
};

#define GMS_MINI_OBJECT_TRAITS(T)                                            \
  template <>                                                                \
  struct RefTraits<T> {                                                      \
    static void ref(T* p) { gst_mini_object_ref(GST_MINI_OBJECT_CAST(p)); }  \
    static void unref(T* p) { gst_mini_object_unref(GST_MINI_OBJECT_CAST(p)); } \
    static void sink(T*) {}                                                  \
  };

GMS_MINI_OBJECT_TRAITS(GstCaps)
GMS_MINI_OBJECT_TRAITS(GstBuffer)
GMS_MINI_OBJECT_TRAITS(GstBufferList)
GMS_MINI_OBJECT_TRAITS(GstEvent)
GMS_MINI_OBJECT_TRAITS(GstMessage)
GMS_MINI_OBJECT_TRAITS(GstQuery)
GMS_MINI_OBJECT_TRAITS(GstSample)
#undef GMS_MINI_OBJECT_TRAITS

#define GMS_PLAIN_REF_TRAITS(T, REF, UNREF)        \
  template <>                                      \
  struct RefTraits<T> {                            \
    static void ref(T* p) { REF(p); }              \
    static void unref(T* p) { UNREF(p); }          \
    static void sink(T*) {}                        \
  };

GMS_PLAIN_REF_TRAITS(GMainContext, g_main_context_ref, g_main_context_unref)
GMS_PLAIN_REF_TRAITS(GMainLoop, g_main_loop_ref, g_main_loop_unref)
GMS_PLAIN_REF_TRAITS(GSource, g_source_ref, g_source_unref)
GMS_PLAIN_REF_TRAITS(GBytes, g_bytes_ref, g_bytes_unref)
GMS_PLAIN_REF_TRAITS(GKeyFile, g_key_file_ref, g_key_file_unref)
#undef GMS_PLAIN_REF_TRAITS

template <typename T>
class Ref {
 public:
  Ref() noexcept = default;
  Ref(std::nullptr_t) noexcept {}

  // (transfer full): takes the caller's reference; sinks a floating one.
  [[nodiscard]] static Ref adopt(T* p) noexcept {
    Ref r;
    if (p) {
      RefTraits<T>::sink(p);
      r.p_ = p;
    }
    return r;
  }
  // (transfer none): adds a reference of our own.
  [[nodiscard]] static Ref borrow(T* p) noexcept {
    Ref r;
    if (p) {
      RefTraits<T>::ref(p);
      r.p_ = p;
    }
    return r;
  }

  Ref(const Ref& o) noexcept : p_(o.p_) {
    if (p_)
      RefTraits<T>::ref(p_);
  }
  Ref(Ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  Ref& operator=(Ref o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~Ref() { reset(); }

  void reset() noexcept {
    if (T* p = std::exchange(p_, nullptr))
      RefTraits<T>::unref(p);
  }
  // Hands our reference to a (transfer full) parameter.
  [[nodiscard]] T* release() noexcept { return std::exchange(p_, nullptr); }

  T* get() const noexcept { return p_; }
  T* operator->() const noexcept { return p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }
  friend bool operator==(const Ref& a, const Ref& b) noexcept { return a.p_ == b.p_; }

 private:
  T* p_ = nullptr;
};

// unique_ptr for non-refcounted C data: UniquePtr<gchar, g_free>.
template <auto Fn>
struct Free {
  template <typename T>
  void operator()(T* p) const noexcept {
    Fn(p);
  }
};
template <typename T, auto Fn>
using UniquePtr = std::unique_ptr<T, Free<Fn>>;

using GCharPtr = UniquePtr<gchar, g_free>;
using GStrvPtr = UniquePtr<gchar*, g_strfreev>;
using GErrorPtr = UniquePtr<GError, g_error_free>;
using GstStructurePtr = UniquePtr<GstStructure, gst_structure_free>;

// Out-parameter adapter: `g_foo(..., out(err))` for GError** and friends.
template <typename T, auto Fn>
class OutPtr {
 public:
  explicit OutPtr(UniquePtr<T, Fn>& owner) : owner_(owner) {}
  ~OutPtr() { owner_.reset(raw_); }
  operator T**() noexcept { return &raw_; }

 private:
  UniquePtr<T, Fn>& owner_;
  T* raw_ = nullptr;
};
template <typename T, auto Fn>
OutPtr<T, Fn> out(UniquePtr<T, Fn>& owner) {
  return OutPtr<T, Fn>(owner);
}

}  // namespace gms
