#include "path/path_traffic.h"

namespace gms {
namespace {

// A track idle for this long sends nothing: its last window's rate is stale.
constexpr gint64 kIdleAfterUs = 3 * G_USEC_PER_SEC;

uint64_t u64(const GstStructure* s, const char* field) {
  guint64 v = 0;
  return s && gst_structure_get_uint64(s, field, &v) ? v : 0;
}

// One msstats element's counters, added to `to`.
void add_stats(GstElement* stats, TrafficFigures& to, bool rates) {
  GstStructure* raw = nullptr;
  g_object_get(stats, "stats", &raw, nullptr);
  GstStructurePtr s(raw);
  if (!s)
    return;
  to.bytes_in += u64(s.get(), "bytes");
  to.packets_in += u64(s.get(), "buffers");
  to.frames += u64(s.get(), "frames");
  to.key_frames += u64(s.get(), "key-frames");
  to.gaps += u64(s.get(), "gaps");
  to.lost += u64(s.get(), "lost-packets");
  gint64 last = 0;
  gst_structure_get_int64(s.get(), "last-activity", &last);
  to.last_activity_us = std::max(to.last_activity_us, last);
  double rate = 0;
  if (rates && last > 0 && g_get_real_time() - last < kIdleAfterUs &&
      gst_structure_get_double(s.get(), "bitrate", &rate))
    to.bitrate_bps += rate;
}

}  // namespace

const char* transport_name(ReaderTransport t) {
  switch (t) {
    case ReaderTransport::kUdp:
      return "udp";
    case ReaderTransport::kUdpMulticast:
      return "udp-multicast";
    case ReaderTransport::kTcp:
      return "tcp";
  }
  return "udp";
}

void PathTraffic::tap(unsigned index, GstElement* stats) {
  std::lock_guard<std::mutex> g(lock_);
  if (tracks_.size() <= index)
    tracks_.resize(index + 1);
  Track& t = tracks_[index];
  if (t.stats.get() == stats)
    return;
  if (t.stats)
    add_stats(t.stats.get(), t.before, false);
  t.stats = Ref<GstElement>::borrow(stats);
}

Ref<GstElement> PathTraffic::make_tap(unsigned index) {
  auto e = Ref<GstElement>::adopt(gst_element_factory_make("msstats", nullptr));
  if (e)
    tap(index, e.get());
  return e;
}

uint64_t PathTraffic::pushed_bytes(const std::vector<Ref<GstElement>>& srcs) {
  uint64_t n = 0;
  for (const auto& e : srcs) {
    GstStructure* raw = nullptr;
    g_object_get(e.get(), "relay-stats", &raw, nullptr);
    GstStructurePtr s(raw);
    n += u64(s.get(), "pushed-bytes");
  }
  return n;
}

bool PathTraffic::reader_joined(const void* key, ReaderTransport t,
                                std::vector<Ref<GstElement>> relay_srcs, uint64_t base) {
  std::lock_guard<std::mutex> g(lock_);
  return readers_.emplace(key, Reader{t, std::move(relay_srcs), base}).second;
}

bool PathTraffic::reader_left(const void* key) {
  std::lock_guard<std::mutex> g(lock_);
  auto it = readers_.find(key);
  if (it == readers_.end())
    return false;
  const uint64_t now = pushed_bytes(it->second.srcs);
  bytes_out_left_ += now > it->second.base ? now - it->second.base : 0;
  readers_.erase(it);
  return true;
}

TrafficFigures PathTraffic::figures() const {
  TrafficFigures f;
  std::lock_guard<std::mutex> g(lock_);
  for (const auto& t : tracks_) {
    const TrafficFigures& b = t.before;
    f.bytes_in += b.bytes_in;
    f.packets_in += b.packets_in;
    f.frames += b.frames;
    f.key_frames += b.key_frames;
    f.gaps += b.gaps;
    f.lost += b.lost;
    f.last_activity_us = std::max(f.last_activity_us, b.last_activity_us);
    if (t.stats)
      add_stats(t.stats.get(), f, true);
  }
  f.bytes_out = bytes_out_left_;
  for (const auto& [key, r] : readers_) {
    const uint64_t now = pushed_bytes(r.srcs);
    f.bytes_out += now > r.base ? now - r.base : 0;
    f.readers[size_t(r.transport)]++;
  }
  return f;
}

}  // namespace gms
