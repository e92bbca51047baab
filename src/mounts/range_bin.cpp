#include "mounts/range_bin.h"

#include <new>
#include <utility>

G_BEGIN_DECLS
#define GMS_TYPE_RANGE_BIN (gms_range_bin_get_type())
G_DECLARE_FINAL_TYPE(GmsRangeBin, gms_range_bin, GMS, RANGE_BIN, GstBin)
G_END_DECLS

// The C++ member is constructed in init and destroyed in finalize.
struct _GmsRangeBin {
  GstBin parent;
  std::function<bool(bool started)> after_start;
  std::function<void()> before_stop;
};

G_DEFINE_FINAL_TYPE(GmsRangeBin, gms_range_bin, GST_TYPE_BIN)

namespace {

GstStateChangeReturn change_state(GstElement* element, GstStateChange transition) noexcept {
  auto* self = GMS_RANGE_BIN(element);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY && self->before_stop)
    self->before_stop();
  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS(gms_range_bin_parent_class)->change_state(element, transition);
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED && self->after_start &&
      !self->after_start(ret != GST_STATE_CHANGE_FAILURE))
    ret = GST_STATE_CHANGE_FAILURE;
  return ret;
}

}  // namespace

static void gms_range_bin_finalize(GObject* object) {
  GMS_RANGE_BIN(object)->after_start.~function();
  GMS_RANGE_BIN(object)->before_stop.~function();
  G_OBJECT_CLASS(gms_range_bin_parent_class)->finalize(object);
}

static void gms_range_bin_class_init(GmsRangeBinClass* klass) {
  G_OBJECT_CLASS(klass)->finalize = gms_range_bin_finalize;
  GST_ELEMENT_CLASS(klass)->change_state = change_state;
}

static void gms_range_bin_init(GmsRangeBin* self) {
  new (&self->after_start) std::function<bool(bool)>();
  new (&self->before_stop) std::function<void()>();
}

namespace gms::mounts {

GstElement* range_bin_new() {
  return GST_ELEMENT(g_object_new(GMS_TYPE_RANGE_BIN, nullptr));
}

void range_bin_set_hooks(GstElement* bin, std::function<bool(bool started)> after_start,
                         std::function<void()> before_stop) {
  if (!GMS_IS_RANGE_BIN(bin))
    return;
  GMS_RANGE_BIN(bin)->after_start = std::move(after_start);
  GMS_RANGE_BIN(bin)->before_stop = std::move(before_stop);
}

}  // namespace gms::mounts
