#include "mounts/publisher_source.h"

#include <gio/gio.h>
#include <gst/net/gstnetaddressmeta.h>

#include <atomic>
#include <memory>

#include "core/log.h"
#include "gms/ref.h"

namespace gms::mounts {
namespace {

std::atomic<uint64_t> g_dropped{0};

// Shared by the probes of one media's sources; freed with the last one.
struct Filter {
  std::string path;
  std::string publisher;
  Ref<GInetAddress> allowed;
  std::atomic<uint64_t> dropped{0};
  std::atomic<gint64> last_log_us{0};
};
using FilterPtr = std::shared_ptr<Filter>;

// The address a datagram came from; false when the buffer has none (it
// did not come from a socket).
bool from_publisher(const Filter& f, GstBuffer* buffer) {
  GstNetAddressMeta* meta = gst_buffer_get_net_address_meta(buffer);
  if (!meta || !G_IS_INET_SOCKET_ADDRESS(meta->addr))
    return true;
  GInetAddress* from = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(meta->addr));
  return g_inet_address_equal(from, f.allowed.get());
}

void note_drop(Filter& f, GstBuffer* buffer) {
  g_dropped.fetch_add(1, std::memory_order_relaxed);
  uint64_t n = f.dropped.fetch_add(1, std::memory_order_relaxed) + 1;
  gint64 now = g_get_monotonic_time();
  gint64 last = f.last_log_us.load(std::memory_order_relaxed);
  if ((last != 0 && now - last < 10 * G_USEC_PER_SEC) ||
      !f.last_log_us.compare_exchange_strong(last, now, std::memory_order_relaxed))
    return;
  GstNetAddressMeta* meta = gst_buffer_get_net_address_meta(buffer);
  GInetAddress* from = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(meta->addr));
  GCharPtr text(g_inet_address_to_string(from));
  GMS_LOG_WARN("path %s: ignoring RTP and RTCP from %s (the publisher is %s; %llu datagrams "
               "so far)",
               f.path.c_str(), text.get(), f.publisher.c_str(), static_cast<unsigned long long>(n));
}

// On the source's streaming thread.
GstPadProbeReturn on_data(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
  Filter& f = **static_cast<FilterPtr*>(data);
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info);
    if (from_publisher(f, b))
      return GST_PAD_PROBE_OK;
    note_drop(f, b);
    return GST_PAD_PROBE_DROP;
  }
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    bool foreign = false;
    for (guint i = 0; i < gst_buffer_list_length(list) && !foreign; ++i)
      foreign = !from_publisher(f, gst_buffer_list_get(list, i));
    if (!foreign)
      return GST_PAD_PROBE_OK;
    list = gst_buffer_list_make_writable(list);
    for (guint i = gst_buffer_list_length(list); i-- > 0;) {
      GstBuffer* b = gst_buffer_list_get(list, i);
      if (!from_publisher(f, b)) {
        note_drop(f, b);
        gst_buffer_list_remove(list, i, 1);
      }
    }
    GST_PAD_PROBE_INFO_DATA(info) = list;
  }
  return GST_PAD_PROBE_OK;
}

void watch(GstElement* element, const FilterPtr& filter) {
  auto* factory = gst_element_get_factory(element);
  if (!factory || g_strcmp0(gst_plugin_feature_get_name(GST_PLUGIN_FEATURE(factory)), "udpsrc") != 0)
    return;
  auto pad = Ref<GstPad>::adopt(gst_element_get_static_pad(element, "src"));
  if (!pad)
    return;
  gst_pad_add_probe(pad.get(),
                    GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                    on_data, new FilterPtr(filter),
                    [](gpointer p) { delete static_cast<FilterPtr*>(p); });
}

void on_element_added(GstBin*, GstBin*, GstElement* element, gpointer data) noexcept {
  watch(element, *static_cast<FilterPtr*>(data));
}

}  // namespace

void accept_udp_only_from(GstRTSPMedia* media, const std::string& path,
                          const std::string& publisher_ip) {
  // A dual-stack listener names an IPv4 peer "::ffff:a.b.c.d"; its
  // datagrams come to the IPv4 sources as a.b.c.d.
  std::string ip = publisher_ip;
  if (g_str_has_prefix(ip.c_str(), "::ffff:") && ip.find('.') != std::string::npos)
    ip = ip.substr(7);
  auto allowed = Ref<GInetAddress>::adopt(g_inet_address_new_from_string(ip.c_str()));
  auto element = Ref<GstElement>::adopt(gst_rtsp_media_get_element(media));
  auto pipeline = element ? Ref<GstObject>::adopt(gst_object_get_parent(GST_OBJECT(element.get())))
                          : Ref<GstObject>();
  if (!allowed || !pipeline || !GST_IS_BIN(pipeline.get())) {
    GMS_LOG_WARN("path %s: cannot restrict the publisher's UDP ports to %s", path.c_str(),
                 publisher_ip.c_str());
    return;
  }
  auto filter = std::make_shared<Filter>();
  filter->path = path;
  filter->publisher = publisher_ip;
  filter->allowed = std::move(allowed);
  // The library makes a stream's UDP sources when the publisher's SETUP
  // asks for UDP, after this; any it has already are watched too.
  g_signal_connect_data(pipeline.get(), "deep-element-added", G_CALLBACK(on_element_added),
                        new FilterPtr(filter),
                        [](gpointer p, GClosure*) { delete static_cast<FilterPtr*>(p); },
                        GConnectFlags(0));
  GstIterator* it = gst_bin_iterate_recurse(GST_BIN(pipeline.get()));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    watch(GST_ELEMENT(g_value_get_object(&item)), filter);
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
}

uint64_t foreign_publisher_packets() { return g_dropped.load(std::memory_order_relaxed); }

}  // namespace gms::mounts
