// The splice of a TCP viewer joining a running relay: its cached key frame
// and the stream's own packets, each packet once and in order.
//
// gst-rtsp-server 1.22 feeds every TCP viewer of a stream from one appsink
// (max-buffers 1) through one send thread, and gives a new viewer every
// list that thread pulls after the viewer was added, which the library
// does as it completes the pipeline for the PLAY, right after the pre-play
// hooks and before the reply. The key frame is sent to the viewer alone,
// from the relay's cache, which runs ahead of what the appsink and the
// queue in front of it still hold. Sent whole, it made the viewer get the
// packets still on their way to the appsink twice, the second time after
// newer ones; cut where the stream takes over, it needs that point to be
// known, and the library shows neither whether the appsink's one list was
// pulled nor when.
//
// So, from the pre-play hook (the media is locked; no other PLAY of it
// runs), before the library adds the viewer, the gate stops packets in
// front of the appsink. It is closed with the pad's stream lock taken, so
// with no packet in the appsink's chain: every packet before the gate
// entered the appsink before the viewer was added, every packet after it
// goes to the viewer too. The viewer's key frame is cut at the first
// packet after the gate, and once it is handed to the viewer's connection,
// the gate opens.
//
// What is left: the one list the appsink may still hold when the viewer
// is added (its send thread pulls a list within microseconds of its
// arrival, unless it is busy or every viewer is stalled) goes to the
// viewer as well, after its key frame. Waiting for the appsink to drain
// would need its DRAIN query, whose waiting on the appsink's one condition
// beside a packet waiting for room can leave that packet, and every TCP
// viewer, waiting for good (appsink wakes one waiter per pull), and whose
// answer depends on the send thread being woken, which the gate prevents.
//
// What the others see: their packets wait at the gate for the time of one
// PLAY (about a millisecond: the reply and the key frame's hand-over to
// the connection's queue).
#pragma once

#include <gst/gst.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "session/tcp_sent.h"

namespace gms {

class TcpJoinGate {
 public:
  // Closes a gate in front of the appsink whose sink pad is `pad`; null if
  // a packet stayed in the appsink's chain for longer than `bound` (a full
  // appsink whose viewers all wait: no gate then, and the joiner may get a
  // list twice). An RTSP client thread.
  // `at_close` runs as it closes, with no packet between the gate and the
  // appsink: what it reads of the appsink's counters is what entered it
  // before the gate.
  static std::unique_ptr<TcpJoinGate> close(GstPad* pad, std::chrono::milliseconds bound,
                                            const std::function<void()>& at_close);
  ~TcpJoinGate();  // opens it
  TcpJoinGate(const TcpJoinGate&) = delete;
  TcpJoinGate& operator=(const TcpJoinGate&) = delete;

  // The first packet stopped at the gate, waiting up to `bound` for one.
  std::optional<session::RtpMark> first_held(std::chrono::milliseconds bound);

  // Lets packets through again.
  void open();

  struct State;  // shared with the pad's probe

 private:
  explicit TcpJoinGate(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace gms
