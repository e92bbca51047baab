#include "mounts/source_address_filter.h"

#include <gio/gio.h>
#include <gst/net/gstnetaddressmeta.h>

#include <atomic>
#include <memory>

#include "core/log.h"
#include "gms/buffer_probe.h"
#include "gms/ref.h"

namespace gms::mounts {

// Shared by the probes of one media's sources; freed with the last one.
struct SourceAddressFilter {
  std::string path;
  std::string publisher;
  Ref<GInetAddress> allowed;
  std::atomic<uint64_t> dropped{0};
  std::atomic<gint64> last_log_us{0};
};

namespace {

using Filter = SourceAddressFilter;
using FilterPtr = SourceAddressFilterPtr;

// Whether a datagram came from the publisher's address; true for a buffer
// that names no sender (it did not come from a socket).
bool from_publisher(const Filter& f, GstBuffer* buffer) {
  GstNetAddressMeta* meta = gst_buffer_get_net_address_meta(buffer);
  if (!meta || !G_IS_INET_SOCKET_ADDRESS(meta->addr))
    return true;
  GInetAddress* from = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(meta->addr));
  return g_inet_address_equal(from, f.allowed.get());
}

void note_drop(Filter& f, GstBuffer* buffer) {
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
  return drop_buffers(info, [&](GstBuffer* b) {
    if (from_publisher(f, b))
      return false;
    note_drop(f, b);
    return true;
  });
}

}  // namespace

SourceAddressFilterPtr source_address_filter(const std::string& path,
                                             const std::string& publisher_ip) {
  // A dual-stack listener names an IPv4 peer "::ffff:a.b.c.d"; its
  // datagrams come to the IPv4 sources as a.b.c.d.
  std::string ip = publisher_ip;
  if (g_str_has_prefix(ip.c_str(), "::ffff:") && ip.find('.') != std::string::npos)
    ip = ip.substr(7);
  auto allowed = Ref<GInetAddress>::adopt(g_inet_address_new_from_string(ip.c_str()));
  if (!allowed)
    return nullptr;
  auto filter = std::make_shared<Filter>();
  filter->path = path;
  filter->publisher = publisher_ip;
  filter->allowed = std::move(allowed);
  return filter;
}

void filter_source_address(GstPad* pad, const SourceAddressFilterPtr& filter) {
  gst_pad_add_probe(pad, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                    on_data, new FilterPtr(filter),
                    [](gpointer p) { delete static_cast<FilterPtr*>(p); });
}

}  // namespace gms::mounts
