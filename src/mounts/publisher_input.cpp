#include "mounts/publisher_input.h"

#include <memory>

#include "core/log.h"
#include "gms/ref.h"
#include "mounts/fec_lost_guard.h"
#include "mounts/source_address_filter.h"
#include "mounts/ssrc_unifier.h"

namespace gms::mounts {
namespace {

struct Guards {
  SourceAddressFilterPtr address;  // null: the publisher's address is unknown
};
using GuardsPtr = std::shared_ptr<Guards>;

bool made_by(GstElement* element, const char* factory_name) {
  GstElementFactory* f = gst_element_get_factory(element);
  return f && g_strcmp0(gst_plugin_feature_get_name(GST_PLUGIN_FEATURE(f)), factory_name) == 0;
}

// Once per element, when it joins the pipeline (or at the start).
void guard(GstElement* element, const Guards& g) {
  if (made_by(element, "rtpulpfecdec")) {
    drop_lost_events_before(element);
    return;
  }
  const bool udp = made_by(element, "udpsrc");
  if (!udp && !made_by(element, "appsrc"))
    return;
  auto pad = Ref<GstPad>::adopt(gst_element_get_static_pad(element, "src"));
  if (!pad)
    return;
  // The address first: a third party's SSRC must not become the track's.
  if (udp && g.address)
    filter_source_address(pad.get(), g.address);
  unify_ssrc(pad.get());
}

void on_element_added(GstBin*, GstBin*, GstElement* element, gpointer data) noexcept {
  guard(element, **static_cast<GuardsPtr*>(data));
}

}  // namespace

void guard_publisher_input(GstRTSPMedia* media, const std::string& path,
                           const std::string& publisher_ip) {
  auto element = Ref<GstElement>::adopt(gst_rtsp_media_get_element(media));
  auto pipeline = element ? Ref<GstObject>::adopt(gst_object_get_parent(GST_OBJECT(element.get())))
                          : Ref<GstObject>();
  if (!pipeline || !GST_IS_BIN(pipeline.get())) {
    GMS_LOG_WARN("path %s: the publisher's pipeline cannot be guarded", path.c_str());
    return;
  }
  auto guards = std::make_shared<Guards>();
  guards->address = source_address_filter(path, publisher_ip);
  if (!guards->address)
    GMS_LOG_WARN("path %s: UDP from any address is taken ('%s' is not an address)", path.c_str(),
                 publisher_ip.c_str());
  g_signal_connect_data(pipeline.get(), "deep-element-added", G_CALLBACK(on_element_added),
                        new GuardsPtr(guards),
                        [](gpointer p, GClosure*) { delete static_cast<GuardsPtr*>(p); },
                        GConnectFlags(0));
  GstIterator* it = gst_bin_iterate_recurse(GST_BIN(pipeline.get()));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    guard(GST_ELEMENT(g_value_get_object(&item)), *guards);
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
}

}  // namespace gms::mounts
