#include "mounts/gop_replay.h"

#include <gio/gio.h>
#include <gst/rtp/gstrtpbuffer.h>

#include <pthread.h>

#include <algorithm>
#include <thread>

#include "core/log.h"
#include "session/figure_reader.h"

namespace gms::mounts {

namespace {

bool seq_of(GstBuffer* b, uint16_t& seq) {
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(b, GST_MAP_READ, &rtp))
    return false;
  seq = gst_rtp_buffer_get_seq(&rtp);
  gst_rtp_buffer_unmap(&rtp);
  return true;
}

struct Active {
  GopReplayJob job;
  size_t next = 0;
  gint64 deadline_us = 0;  // a replay that sent nothing until then gives the viewer back
  bool primed = false;     // took what the sink rendered while the job waited
  bool blocked = false;    // its last turn sent nothing
};

// A replay that sends nothing for this long (a receiver whose socket stays
// full, a sink that renders nothing) gives the viewer back to the sink.
constexpr gint64 kGiveUpUs = 5 * G_USEC_PER_SEC;

// Sends the next batch of a job; false when it cannot go on.
bool send_batch(Active& a) {
  a.blocked = false;
  auto& packets = a.job.packets;
  size_t n = std::min(GopReplayer::kBatch, packets.size() - a.next);
  GstMapInfo maps[GopReplayer::kBatch];
  GOutputVector vectors[GopReplayer::kBatch];
  GOutputMessage messages[GopReplayer::kBatch];
  size_t mapped = 0;
  for (; mapped < n; ++mapped) {
    if (!gst_buffer_map(packets[a.next + mapped].get(), &maps[mapped], GST_MAP_READ))
      break;
    vectors[mapped] = GOutputVector{maps[mapped].data, maps[mapped].size};
    messages[mapped] = GOutputMessage{a.job.dest.get(), &vectors[mapped], 1, 0, nullptr, 0};
  }
  GError* err = nullptr;
  gint sent = mapped ? g_socket_send_messages(a.job.socket.get(), messages, guint(mapped), 0,
                                              nullptr, &err)
                     : 0;
  uint64_t bytes = 0;
  for (size_t i = 0; i < mapped; ++i) {
    if (gint(i) < sent)
      bytes += maps[i].size;
    gst_buffer_unmap(packets[a.next + i].get(), &maps[i]);
  }
  if (sent < 0) {
    bool again = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
    g_clear_error(&err);
    a.blocked = again;
    return again;  // a full socket buffer: this viewer's turn comes again
  }
  if (sent > 0) {
    session::add_sent_beside_sinks(a.job.trans.get(), bytes, uint64_t(sent));
    a.deadline_us = g_get_monotonic_time() + kGiveUpUs;  // a slow replay is not a stuck one
  }
  a.next += sent > 0 ? size_t(sent) : 1;  // an unmappable packet is skipped
  return true;
}

// What the sink rendered since the last turn, after what the job has.
void take_rendered(Active& a) {
  std::vector<Ref<GstBuffer>> rendered;
  bool from_key = a.job.tap->take(*a.job.waiter, rendered);
  if (!a.primed && from_key) {
    // It waited past a newer key frame: start there, not at the old one.
    a.job.packets = std::move(rendered);
    a.next = 0;
  } else {
    append_newer(a.job.packets, rendered);
  }
  a.primed = true;
}

// One turn of a job: a batch sent, or the handover to the sink. False when
// the job is over.
bool step(Active& a) {
  auto& tap = *a.job.tap;
  auto& waiter = *a.job.waiter;
  if (tap.done(waiter))
    return false;  // handed over, or the viewer left
  if (g_get_monotonic_time() > a.deadline_us) {
    tap.release(waiter);
    return false;
  }
  take_rendered(a);
  if (a.next < a.job.packets.size())
    return send_batch(a) || (tap.release(waiter), false);
  // Everything sent: the sink takes over at its next packet after the last
  // one sent, unless packets came in between (sent next turn).
  uint16_t last = 0;
  if (a.job.packets.empty() || !seq_of(a.job.packets.back().get(), last)) {
    tap.release(waiter);  // no sequence number to hand over at: now
    return false;
  }
  a.blocked = tap.ready_if_drained(waiter, last);
  return true;
}

}  // namespace

void append_newer(std::vector<Ref<GstBuffer>>& sent, const std::vector<Ref<GstBuffer>>& later) {
  uint16_t last = 0;
  if (sent.empty() || !seq_of(sent.back().get(), last)) {
    if (sent.empty())
      sent = later;
    return;
  }
  for (const auto& b : later) {
    uint16_t s = 0;
    if (seq_of(b.get(), s) && int16_t(uint16_t(s - last)) > 0)
      sent.push_back(b);
  }
}

std::vector<Ref<GstBuffer>> reader_gop(GstElement* reader) {
  std::vector<Ref<GstBuffer>> out;
  if (!reader || !g_signal_lookup("get-gop", G_OBJECT_TYPE(reader)))
    return out;
  GstBufferList* list = nullptr;
  g_signal_emit_by_name(reader, "get-gop", &list);
  if (!list)
    return out;
  for (guint i = 0; i < gst_buffer_list_length(list); ++i)
    out.push_back(Ref<GstBuffer>::borrow(gst_buffer_list_get(list, i)));
  gst_buffer_list_unref(list);
  return out;
}

GopReplayer& GopReplayer::instance() {
  static GopReplayer* r = new GopReplayer();  // never destroyed: its thread runs for the process
  return *r;
}

void GopReplayer::add(GopReplayJob job) {
  {
    std::lock_guard<std::mutex> g(mutex_);
    incoming_.push_back(std::move(job));
    if (!started_) {
      started_ = true;
      std::thread([this] {
        pthread_setname_np(pthread_self(), "gms-gop-replay");
        run();
      }).detach();
    }
  }
  cv_.notify_one();
}

void GopReplayer::run() {
  std::deque<Active> waiting;
  std::vector<Active> active;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return !incoming_.empty() || !active.empty() || !waiting.empty(); });
      while (!incoming_.empty()) {
        waiting.push_back(Active{std::move(incoming_.front())});
        incoming_.pop_front();
      }
    }
    // The first waiting joiners take the free places; their time starts now.
    while (active.size() < kActive && !waiting.empty()) {
      active.push_back(std::move(waiting.front()));
      waiting.pop_front();
      active.back().deadline_us = g_get_monotonic_time() + kGiveUpUs;
    }
    // One batch per joiner in turn; finished ones leave the round.
    std::vector<Active> left;
    left.reserve(active.size());
    for (auto& a : active)
      if (step(a))
        left.push_back(std::move(a));
    active = std::move(left);
    // Nothing to send (sockets full, or waiting for the sink's next packet):
    // let the receivers and the sink run before the next round.
    if (!active.empty() &&
        std::all_of(active.begin(), active.end(), [](const Active& a) { return a.blocked; }))
      g_usleep(1000);
  }
}

}  // namespace gms::mounts
