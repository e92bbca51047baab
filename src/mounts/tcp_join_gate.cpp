#include "mounts/tcp_join_gate.h"

#include <condition_variable>
#include <mutex>
#include <utility>

#include "core/log.h"
#include "gms/ref.h"

namespace gms {

using Clock = std::chrono::steady_clock;

struct TcpJoinGate::State {
  // Taken in the pad's probe (the queue's streaming thread) and by the
  // threads that wait on or open the gate; nothing is taken under it.
  std::mutex lock;
  std::condition_variable changed;
  bool closed = true;
  std::optional<session::RtpMark> first;  // the first packet stopped
  Clock::time_point closed_at;
  bool warned = false;
  Ref<GstPad> pad;
  gulong probe = 0;  // 0 once removed
};

namespace {

using StatePtr = std::shared_ptr<TcpJoinGate::State>;

// How often a stopped packet looks whether its pad is flushing (a media
// being stopped), which no one signals to the gate.
constexpr auto kSlice = std::chrono::milliseconds(5);
// A gate left closed (a fault of ours): its packets pass after this.
constexpr auto kForgotten = std::chrono::seconds(2);

std::optional<session::RtpMark> first_of(GstPadProbeInfo* info) {
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    if (!list || !gst_buffer_list_length(list))
      return std::nullopt;
    return session::rtp_mark(gst_buffer_list_get(list, 0));
  }
  return session::rtp_mark(GST_PAD_PROBE_INFO_BUFFER(info));
}

GstPadProbeReturn on_packet(GstPad* pad, GstPadProbeInfo* info, gpointer data) noexcept {
  TcpJoinGate::State& s = **static_cast<StatePtr*>(data);
  std::unique_lock<std::mutex> hold(s.lock);
  if (!s.closed)
    return GST_PAD_PROBE_OK;  // opened while this packet came
  if (!s.first) {
    s.first = first_of(info);
    s.changed.notify_all();
  }
  const Clock::time_point forgotten = s.closed_at + kForgotten;
  while (s.closed && Clock::now() < forgotten && !GST_PAD_IS_FLUSHING(pad))
    s.changed.wait_for(hold, kSlice);
  if (s.closed && !GST_PAD_IS_FLUSHING(pad) && !std::exchange(s.warned, true))
    GMS_LOG_WARN("relay: a TCP joiner's gate was left closed; its stream goes on");
  return GST_PAD_PROBE_OK;
}

}  // namespace

std::unique_ptr<TcpJoinGate> TcpJoinGate::close(GstPad* pad, std::chrono::milliseconds bound,
                                                const std::function<void()>& at_close) {
  GRecMutex* stream_lock = GST_PAD_GET_STREAM_LOCK(pad);
  const Clock::time_point until = Clock::now() + bound;
  while (!g_rec_mutex_trylock(stream_lock)) {
    if (Clock::now() >= until)
      return nullptr;
    g_usleep(500);
  }
  auto state = std::make_shared<State>();
  state->pad = Ref<GstPad>::borrow(pad);
  state->closed_at = Clock::now();
  state->probe = gst_pad_add_probe(
      pad, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST), on_packet,
      new StatePtr(state), [](gpointer p) { delete static_cast<StatePtr*>(p); });
  if (state->probe)
    at_close();
  g_rec_mutex_unlock(stream_lock);
  if (!state->probe)
    return nullptr;
  return std::unique_ptr<TcpJoinGate>(new TcpJoinGate(state));
}

TcpJoinGate::~TcpJoinGate() { open(); }

std::optional<session::RtpMark> TcpJoinGate::first_held(std::chrono::milliseconds bound) {
  std::unique_lock<std::mutex> hold(state_->lock);
  state_->changed.wait_for(hold, bound, [&] { return state_->first.has_value(); });
  return state_->first;
}

void TcpJoinGate::open() {
  gulong id = 0;
  {
    std::lock_guard<std::mutex> hold(state_->lock);
    if (!state_->closed)
      return;
    state_->closed = false;
    id = std::exchange(state_->probe, 0);
  }
  state_->changed.notify_all();
  if (id)
    gst_pad_remove_probe(state_->pad.get(), id);
}

}  // namespace gms
