// Counts the live instances of one GObject class in this process: while a
// LiveInstances object lives, the class's `constructed` and `finalize` are
// wrapped by counting ones. (GLib's own instance counts, GOBJECT_DEBUG=
// instance-count, exist only in its debug builds; Debian's is not one.)
//
// `TypeOf` names the class: a function returning its GType (for a class of a
// plugin, e.g. rtspsrc's, one that loads the plugin first). One instance of
// the template per class; at most one object of it at a time.
#pragma once

#include <glib-object.h>

#include <atomic>

namespace gms::test {

template <GType (*TypeOf)()>
class LiveInstances {
 public:
  LiveInstances() {
    live_ = 0;
    made_ = 0;
    klass_ = static_cast<GObjectClass*>(g_type_class_ref(TypeOf()));
    constructed_ = klass_->constructed;
    finalize_ = klass_->finalize;
    klass_->constructed = [](GObject* o) {
      live_.fetch_add(1);
      made_.fetch_add(1);
      if (constructed_)
        constructed_(o);
    };
    klass_->finalize = [](GObject* o) {
      live_.fetch_sub(1);
      finalize_(o);
    };
  }
  ~LiveInstances() {
    klass_->constructed = constructed_;
    klass_->finalize = finalize_;
    g_type_class_unref(klass_);
  }
  LiveInstances(const LiveInstances&) = delete;
  LiveInstances& operator=(const LiveInstances&) = delete;

  // Made less finalized since this object was: instances made before it and
  // finalized since count -1 each.
  long now() const { return live_.load(); }
  // Made since this object was.
  long made() const { return made_.load(); }

 private:
  GObjectClass* klass_;
  static inline void (*constructed_)(GObject*) = nullptr;
  static inline void (*finalize_)(GObject*) = nullptr;
  static inline std::atomic<long> live_{0};
  static inline std::atomic<long> made_{0};
};

}  // namespace gms::test
