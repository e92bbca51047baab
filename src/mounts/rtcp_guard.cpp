#include "mounts/rtcp_guard.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/log.h"
#include "gms/buffer_probe.h"
#include "gms/ref.h"
#include "mounts/rtcp_check.h"

namespace gms::mounts {
namespace {

// What is dropped, and why: counted and logged per media.
struct DropLog {
  const char* what;
  std::atomic<uint64_t> count{0};
  std::atomic<gint64> last_log_us{0};
};

// Shared by the probes of one media; freed with the last of them.
struct RtcpGuard {
  std::string path;
  RtcpSourceBudget budget;
  DropLog malformed{"malformed RTCP"};
  DropLog foreign{"RTCP from more sources than the track has"};
};
using GuardPtr = std::shared_ptr<RtcpGuard>;

// One session's RTCP input. Its probe can run on more than one thread
// (the interleaved input's appsrc and the UDP sources feed one funnel).
struct SessionInput {
  GuardPtr guard;
  std::mutex lock;  // protects sources
  // SSRCs let in so far (within the budget), with when each was last heard
  // (µs, monotonic). A map: a shared media's sessions hear every viewer's
  // reports, and the budget grows with the viewers.
  std::unordered_map<uint32_t, gint64> sources;
  gint64 swept_us = 0;  // the last look for silent sources (at most one a second)
};

// A source silent this long makes room for a new one (when the budget
// says so): longer than a session keeps a silent member in all but huge
// sessions, so that what the session holds stays within the budget.
constexpr gint64 kForgetSilentUs = 300 * G_USEC_PER_SEC;

bool limited(const RtcpSourceBudget& b) { return b.base || b.per_viewer; }

size_t allowed(const RtcpSourceBudget& b) {
  const unsigned viewers = b.viewers ? b.viewers->load(std::memory_order_relaxed) : 0;
  return size_t(b.base) + size_t(b.per_viewer) * viewers;
}

GuardPtr* copy_of(const GuardPtr& g) { return new GuardPtr(g); }
void free_copy(gpointer p) { delete static_cast<GuardPtr*>(p); }
void free_copy_closure(gpointer p, GClosure*) { free_copy(p); }

void note_drop(const std::string& path, DropLog& d) {
  const uint64_t n = d.count.fetch_add(1, std::memory_order_relaxed) + 1;
  const gint64 now = g_get_monotonic_time();
  gint64 last = d.last_log_us.load(std::memory_order_relaxed);
  if ((last != 0 && now - last < 10 * G_USEC_PER_SEC) ||
      !d.last_log_us.compare_exchange_strong(last, now, std::memory_order_relaxed))
    return;
  GMS_LOG_WARN("path %s: dropped %s (%llu packets so far)", path.c_str(), d.what,
               static_cast<unsigned long long>(n));
}

// Whether every SSRC the compound names is one of the session's sources,
// or can still become one.
bool from_known_sources(SessionInput& in, const GstMapInfo& map) {
  std::vector<uint32_t> named;
  rtcp_sources(map.data, map.size, named);
  const RtcpSourceBudget& budget = in.guard->budget;
  const gint64 now = g_get_monotonic_time();
  std::lock_guard<std::mutex> g(in.lock);
  for (uint32_t ssrc : named) {
    if (auto known = in.sources.find(ssrc); known != in.sources.end()) {
      known->second = now;
      continue;
    }
    // (Not at each refusal: a flood of new SSRCs would pay for a walk of
    // every source with each packet.)
    if (in.sources.size() >= allowed(budget) && budget.forget_silent &&
        now - in.swept_us >= G_USEC_PER_SEC) {
      in.swept_us = now;
      std::erase_if(in.sources, [&](const auto& s) { return now - s.second > kForgetSilentUs; });
    }
    if (in.sources.size() >= allowed(budget))
      return false;
    in.sources.emplace(ssrc, now);
  }
  return true;
}

// True when `buffer` is to be dropped.
bool refused(SessionInput& in, GstBuffer* buffer) {
  RtcpGuard& g = *in.guard;
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ))
    return true;
  DropLog* why = nullptr;
  if (!rtcp_is_sound(map.data, map.size))
    why = &g.malformed;
  else if (limited(g.budget) && !from_known_sources(in, map))
    why = &g.foreign;
  gst_buffer_unmap(buffer, &map);
  if (why)
    note_drop(g.path, *why);
  return why != nullptr;
}

// On the streaming threads of the session's RTCP input.
GstPadProbeReturn on_data(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
  auto& in = *static_cast<SessionInput*>(data);
  return drop_buffers(info, [&](GstBuffer* b) { return refused(in, b); });
}

constexpr char kGuarded[] = "gms-rtcp-guard";

void guard_pad(GstPad* pad, const GuardPtr& g) {
  if (!GST_PAD_IS_SINK(pad) || g_strcmp0(GST_PAD_NAME(pad), "recv_rtcp_sink") != 0 ||
      g_object_get_data(G_OBJECT(pad), kGuarded))
    return;
  // (pad-added and the iteration of a session made meanwhile both see it.)
  g_object_set_data(G_OBJECT(pad), kGuarded, GINT_TO_POINTER(1));
  auto* in = new SessionInput;
  in->guard = g;
  gst_pad_add_probe(pad, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                    on_data, in, [](gpointer p) { delete static_cast<SessionInput*>(p); });
}

void on_pad_added(GstElement*, GstPad* pad, gpointer data) noexcept {
  guard_pad(pad, *static_cast<GuardPtr*>(data));
}

// An rtpsession: its RTCP input now, or when rtpbin asks for it.
void guard_session(GstElement* session, const GuardPtr& g) {
  g_signal_connect_data(session, "pad-added", G_CALLBACK(on_pad_added), copy_of(g),
                        free_copy_closure, GConnectFlags(0));
  GstIterator* it = gst_element_iterate_sink_pads(session);
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    guard_pad(GST_PAD(g_value_get_object(&item)), g);
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
}

bool is_session(GstElement* element) {
  GstElementFactory* f = gst_element_get_factory(element);
  return f && g_strcmp0(gst_plugin_feature_get_name(GST_PLUGIN_FEATURE(f)), "rtpsession") == 0;
}

void on_element_added(GstBin*, GstBin*, GstElement* element, gpointer data) noexcept {
  if (is_session(element))
    guard_session(element, *static_cast<GuardPtr*>(data));
}

}  // namespace

void guard_rtcp_input(GstBin* pipeline, const std::string& path, RtcpSourceBudget budget) {
  auto g = std::make_shared<RtcpGuard>();
  g->path = path;
  g->budget = std::move(budget);
  g_signal_connect_data(pipeline, "deep-element-added", G_CALLBACK(on_element_added), copy_of(g),
                        free_copy_closure, GConnectFlags(0));
  GstIterator* it = gst_bin_iterate_recurse(pipeline);
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    if (GstElement* e = GST_ELEMENT(g_value_get_object(&item)); is_session(e))
      guard_session(e, g);
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
}

}  // namespace gms::mounts
