#include "mounts/track_sinks.h"

#include "gms/ref.h"

namespace gms::mounts {

void TrackSinks::add(const std::string& channel, GstElement* sink) {
  std::lock_guard<std::mutex> g(mutex_);
  // Channels of sinks that are gone go first: the map stays as small as the
  // set of live tracks.
  for (auto it = sinks_.begin(); it != sinks_.end();) {
    auto* alive = static_cast<GObject*>(g_weak_ref_get(&it->second->ref));
    if (alive)
      g_object_unref(alive);
    it = alive ? std::next(it) : sinks_.erase(it);
  }
  auto& slot = sinks_[channel];
  if (!slot)
    slot = std::make_unique<WeakRef>();
  g_weak_ref_set(&slot->ref, sink);
  // Its first packet wakes whoever waits for the path to stream.
  auto pad = Ref<GstPad>::adopt(gst_element_get_static_pad(sink, "sink"));
  if (!pad)
    return;
  gst_pad_add_probe(
      pad.get(), GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
      +[](GstPad*, GstPadProbeInfo*, gpointer data) noexcept -> GstPadProbeReturn {
        if (auto self = static_cast<std::weak_ptr<TrackSinks>*>(data)->lock())
          self->first_packet();
        return GST_PAD_PROBE_REMOVE;
      },
      new std::weak_ptr<TrackSinks>(weak_from_this()),
      [](gpointer data) { delete static_cast<std::weak_ptr<TrackSinks>*>(data); });
}

void TrackSinks::first_packet() {
  {
    std::lock_guard<std::mutex> g(mutex_);
    first_packets_++;
  }
  packet_.notify_all();
}

bool TrackSinks::wait_first_packet(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lk(mutex_);
  uint64_t before = first_packets_;
  return packet_.wait_for(lk, timeout, [&] { return first_packets_ != before; });
}

std::optional<TrackSinks::Figures> TrackSinks::figures(const std::string& channel) const {
  Ref<GstElement> sink;
  {
    std::lock_guard<std::mutex> g(mutex_);
    auto it = sinks_.find(channel);
    if (it == sinks_.end())
      return std::nullopt;
    sink = Ref<GstElement>::adopt(static_cast<GstElement*>(g_weak_ref_get(&it->second->ref)));
  }
  if (!sink)
    return std::nullopt;
  Figures f;
  auto pad = Ref<GstPad>::adopt(gst_element_get_static_pad(sink.get(), "sink"));
  if (pad) {
    f.current = Ref<GstCaps>::adopt(gst_pad_get_current_caps(pad.get()));
    f.caps = static_cast<bool>(f.current);
  }
  GstStructure* stats = nullptr;
  g_object_get(sink.get(), "stats", &stats, nullptr);
  if (stats) {
    guint64 packets = 0;
    gst_structure_get_uint64(stats, "packets", &packets);
    gst_structure_get_int64(stats, "last-data-time", &f.last_data_us);
    f.packets = packets;
    gst_structure_free(stats);
  }
  return f;
}

}  // namespace gms::mounts
