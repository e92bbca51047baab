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
  gint64 deadline_us = 0;  // a viewer whose socket stays full is given up then
  bool blocked = false;    // its last turn sent nothing
};

constexpr gint64 kGiveUpUs = 5 * G_USEC_PER_SEC;

// Sends the next batch of a job; false when it is done (or cannot go on).
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
    // A full socket buffer: this viewer's turn comes again, for a while.
    return again && g_get_monotonic_time() < a.deadline_us;
  }
  if (sent > 0)
    session::add_sent_beside_sinks(a.job.trans.get(), bytes, uint64_t(sent));
  a.next += sent > 0 ? size_t(sent) : 1;  // an unmappable packet is skipped
  return a.next < packets.size();
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
  std::vector<Active> active;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return !incoming_.empty() || !active.empty(); });
      while (!incoming_.empty()) {
        active.push_back(Active{std::move(incoming_.front()), 0,
                                g_get_monotonic_time() + kGiveUpUs, false});
        incoming_.pop_front();
      }
    }
    // One batch per viewer in turn; finished viewers leave the round.
    std::vector<Active> left;
    left.reserve(active.size());
    for (auto& a : active)
      if (send_batch(a))
        left.push_back(std::move(a));
    active = std::move(left);
    // Every socket full: let the receivers read before the next round.
    if (!active.empty() &&
        std::all_of(active.begin(), active.end(), [](const Active& a) { return a.blocked; }))
      g_usleep(1000);
  }
}

}  // namespace gms::mounts
