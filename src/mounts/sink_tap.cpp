#include "mounts/sink_tap.h"

#include <gst/rtp/gstrtpbuffer.h>

#include <algorithm>

namespace gms::mounts {

namespace {

const char kTap[] = "gms-sink-tap";  // on multiudpsinks: a std::shared_ptr<SinkTap>*

using WeakTap = std::weak_ptr<SinkTap>;

// A hold whose PLAY never reached play-request (its job) is forgotten then.
constexpr gint64 kHoldExpiresUs = 30 * G_USEC_PER_SEC;

// Set while this thread emits a hand-back's "add": on_add lets it through.
thread_local bool t_giving_back = false;

void free_weak(gpointer p) { delete static_cast<WeakTap*>(p); }

}  // namespace

std::shared_ptr<SinkTap> SinkTap::of(GstElement* sink) {
  // Made on an RTSP client thread while the library holds the shared media
  // lock: two joiners of one stream never race here.
  if (auto* held = static_cast<std::shared_ptr<SinkTap>*>(g_object_get_data(G_OBJECT(sink), kTap)))
    return *held;
  auto tap = std::make_shared<SinkTap>(sink);
  g_object_set_data_full(G_OBJECT(sink), kTap, new std::shared_ptr<SinkTap>(tap), [](gpointer p) {
    delete static_cast<std::shared_ptr<SinkTap>*>(p);
  });
  auto pad = Ref<GstPad>::adopt(gst_element_get_static_pad(sink, "sink"));
  if (pad)
    gst_pad_add_probe(pad.get(),
                      GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                      on_data, new WeakTap(tap), free_weak);
  g_signal_connect_data(sink, "remove", G_CALLBACK(on_remove), new WeakTap(tap),
                        [](gpointer p, GClosure*) { free_weak(p); }, GConnectFlags(0));
  g_signal_connect_data(sink, "add", G_CALLBACK(on_add), new WeakTap(tap),
                        [](gpointer p, GClosure*) { free_weak(p); }, GConnectFlags(0));
  return tap;
}

Ref<GstElement> SinkTap::rtp_sink(GstElement* pipeline, GSocket* socket) {
  Ref<GstElement> found;
  if (!pipeline || !GST_IS_BIN(pipeline) || !socket)
    return found;
  GstIterator* it = gst_bin_iterate_recurse(GST_BIN(pipeline));
  GValue item = G_VALUE_INIT;
  while (!found && gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    auto* e = GST_ELEMENT(g_value_get_object(&item));
    GstElementFactory* f = gst_element_get_factory(e);
    if (f && g_str_equal(GST_OBJECT_NAME(f), "multiudpsink")) {
      GSocket *v4 = nullptr, *v6 = nullptr;
      g_object_get(e, "socket", &v4, "socket-v6", &v6, nullptr);
      if (v4 == socket || v6 == socket)
        found = Ref<GstElement>::borrow(e);
      g_clear_object(&v4);
      g_clear_object(&v6);
    }
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  return found;
}

std::shared_ptr<TapWaiter> SinkTap::hold(const std::string& host, int port) {
  auto w = std::make_shared<TapWaiter>();
  w->host = host;
  w->port = port;
  w->since_us = g_get_monotonic_time();
  std::lock_guard<std::mutex> g(mutex_);
  for (auto& old : waiters_)  // an earlier hold of the same viewer is over
    if (old->port == port && old->host == host)
      old->done = true;
  waiters_.push_back(w);
  return w;
}

bool SinkTap::take(TapWaiter& w, std::vector<Ref<GstBuffer>>& out) {
  std::lock_guard<std::mutex> g(mutex_);
  bool from_key = w.from_key && !w.started;
  w.started = true;
  out = std::move(w.packets);
  w.packets.clear();
  return from_key;
}

bool SinkTap::ready_if_drained(TapWaiter& w, uint16_t last_sent) {
  std::lock_guard<std::mutex> g(mutex_);
  if (w.done || !w.packets.empty())
    return false;
  w.ready = true;
  w.last_sent = last_sent;
  return true;
}

void SinkTap::release(TapWaiter& w) {
  std::lock_guard<std::mutex> g(mutex_);
  give_back_locked(w);
}

void SinkTap::cancel(TapWaiter& w) {
  std::lock_guard<std::mutex> g(mutex_);
  w.done = true;
  w.packets.clear();
}

bool SinkTap::done(const TapWaiter& w) {
  std::lock_guard<std::mutex> g(mutex_);
  return w.done;
}

void SinkTap::give_back_locked(TapWaiter& w) {
  if (w.done)
    return;
  w.done = true;
  w.packets.clear();
  t_giving_back = true;
  g_signal_emit_by_name(sink_, "add", w.host.c_str(), w.port);
  t_giving_back = false;
}

bool SinkTap::expired(const TapWaiter& w) const {
  return !w.started && g_get_monotonic_time() - w.since_us > kHoldExpiresUs;
}

void SinkTap::collect(GstBuffer* buffer) {
  // A buffer without DELTA_UNIT starts a picture that decodes on its own
  // (msrelaysrc marks the others): a joiner still waiting for its turn
  // needs nothing before it.
  const bool key = !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  for (auto& w : waiters_) {
    if (w->done || w->ready)
      continue;
    if (key && !w->started) {
      w->packets.clear();
      w->from_key = true;
    }
    w->packets.push_back(Ref<GstBuffer>::borrow(buffer));
  }
}

// On the sink's streaming thread, before it renders the data.
GstPadProbeReturn SinkTap::on_data(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
  auto tap = static_cast<WeakTap*>(data)->lock();
  if (!tap)
    return GST_PAD_PROBE_OK;
  std::lock_guard<std::mutex> g(tap->mutex_);
  if (tap->waiters_.empty())
    return GST_PAD_PROBE_OK;
  for (auto& w : tap->waiters_)
    if (w->ready)
      tap->hand_over_locked(*w, info);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    for (guint i = 0; i < gst_buffer_list_length(list); ++i)
      tap->collect(gst_buffer_list_get(list, i));
  } else if (GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info)) {
    tap->collect(b);
  }
  auto& ws = tap->waiters_;
  ws.erase(std::remove_if(ws.begin(), ws.end(),
                          [&](const auto& w) { return w->done || tap->expired(*w); }),
           ws.end());
  return GST_PAD_PROBE_OK;
}

// A viewer whose replay has sent everything gets this data from the sink,
// if it starts after what the replay sent. The cached GOP is what the relay
// reader output, which can be ahead of the sink (packets on their way
// through the RTP session and the tee): data the replay sent already goes
// back to the replay, which sends only what is newer, and the hand-over
// waits for the next data.
void SinkTap::hand_over_locked(TapWaiter& w, GstPadProbeInfo* info) {
  GstBuffer* first = nullptr;
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    first = gst_buffer_list_length(list) ? gst_buffer_list_get(list, 0) : nullptr;
  } else {
    first = GST_PAD_PROBE_INFO_BUFFER(info);
  }
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  bool older = false;
  if (first && gst_rtp_buffer_map(first, GST_MAP_READ, &rtp)) {
    older = int16_t(uint16_t(gst_rtp_buffer_get_seq(&rtp) - w.last_sent)) <= 0;
    gst_rtp_buffer_unmap(&rtp);
  }
  if (older)
    w.ready = false;  // collected below; the replay sends what is newer
  else
    give_back_locked(w);
}

// The library adds a viewer (its PLAY): one we hold stays out until its
// replay is done. Our own hand-back passes.
void SinkTap::on_add(GstElement* sink, const gchar* host, gint port, gpointer data) noexcept {
  if (t_giving_back || !host)
    return;
  auto tap = static_cast<WeakTap*>(data)->lock();
  if (!tap)
    return;
  std::lock_guard<std::mutex> g(tap->mutex_);
  for (auto& w : tap->waiters_)
    if (!w->done && !tap->expired(*w) && w->port == port && w->host == host) {
      g_signal_stop_emission_by_name(sink, "add");
      return;
    }
}

// The library takes a viewer out (TEARDOWN, PAUSE, its session's end): one
// we hold is gone, and must never be given back.
void SinkTap::on_remove(GstElement*, const gchar* host, gint port, gpointer data) noexcept {
  auto tap = static_cast<WeakTap*>(data)->lock();
  if (!tap || !host)
    return;
  std::lock_guard<std::mutex> g(tap->mutex_);
  for (auto& w : tap->waiters_)
    if (!w->done && w->port == port && w->host == host) {
      w->done = true;
      w->packets.clear();
    }
}

}  // namespace gms::mounts
