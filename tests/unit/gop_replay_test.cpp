// What a UDP joiner's GOP replay sends: the packets of the PLAY reply's
// snapshot, then those the reader output after it (by sequence number); and
// where a held joiner goes back to the stream's sink (a real multiudpsink
// sending to a socket of the test).
#include <gst/check/gstharness.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <gtest/gtest.h>

#include "mounts/gop_replay.h"
#include "mounts/sink_tap.h"
#include "udp_ports.h"

namespace gms::mounts {
namespace {

Ref<GstBuffer> rtp(uint16_t seq) {
  auto b = Ref<GstBuffer>::adopt(gst_rtp_buffer_new_allocate(10, 0, 0));
  GstRTPBuffer r = GST_RTP_BUFFER_INIT;
  gst_rtp_buffer_map(b.get(), GST_MAP_WRITE, &r);
  gst_rtp_buffer_set_seq(&r, seq);
  gst_rtp_buffer_unmap(&r);
  return b;
}

std::vector<Ref<GstBuffer>> run(uint16_t from, uint16_t to) {
  std::vector<Ref<GstBuffer>> v;
  for (uint16_t s = from; s != uint16_t(to + 1); ++s)
    v.push_back(rtp(s));
  return v;
}

std::vector<uint16_t> seqs(const std::vector<Ref<GstBuffer>>& v) {
  std::vector<uint16_t> out;
  for (const auto& b : v) {
    GstRTPBuffer r = GST_RTP_BUFFER_INIT;
    gst_rtp_buffer_map(b.get(), GST_MAP_READ, &r);
    out.push_back(gst_rtp_buffer_get_seq(&r));
    gst_rtp_buffer_unmap(&r);
  }
  return out;
}

TEST(GopReplay, SameGopGrownSendsOnlyTheNewPackets) {
  auto sent = run(100, 104);
  append_newer(sent, run(100, 107));
  EXPECT_EQ(seqs(sent), (std::vector<uint16_t>{100, 101, 102, 103, 104, 105, 106, 107}));
}

TEST(GopReplay, ANewerGopAddsWhatFollowsAcrossTheWrap) {
  auto sent = run(65534, 65535);
  append_newer(sent, run(65535, 1));
  EXPECT_EQ(seqs(sent), (std::vector<uint16_t>{65534, 65535, 0, 1}));
}

TEST(GopReplay, NothingNewNothingAdded) {
  auto sent = run(10, 20);
  append_newer(sent, run(5, 20));
  EXPECT_EQ(sent.size(), 11u);
}

TEST(GopReplay, AnEmptySnapshotTakesTheCurrentGop) {
  std::vector<Ref<GstBuffer>> sent;
  append_newer(sent, run(7, 9));
  EXPECT_EQ(seqs(sent), (std::vector<uint16_t>{7, 8, 9}));
}

// A multiudpsink in a harness and a UDP socket of the test as its viewer.
struct SinkAndViewer {
  SinkAndViewer() {
    h = gst_harness_new("multiudpsink");
    g_object_set(h->element, "sync", FALSE, "async", FALSE, nullptr);
    gst_harness_set_src_caps_str(h, "application/x-rtp");
    socket = test::udp_socket("127.0.0.1");
    port = socket ? test::local_port(socket.get()) : 0;
    tap = SinkTap::of(h->element);
  }
  ~SinkAndViewer() {
    tap.reset();
    gst_harness_teardown(h);
  }
  void push(uint16_t from, uint16_t to) {
    GstBufferList* list = gst_buffer_list_new();
    for (auto& b : run(from, to)) {  // no key frame among them
      GST_BUFFER_FLAG_SET(b.get(), GST_BUFFER_FLAG_DELTA_UNIT);
      gst_buffer_list_add(list, gst_buffer_ref(b.get()));
    }
    ASSERT_EQ(gst_pad_push_list(h->srcpad, list), GST_FLOW_OK);
  }
  // What the sink sent to the viewer so far.
  std::vector<uint16_t> received() {
    std::vector<uint16_t> out;
    gchar buf[2048];
    for (int idle = 0; idle < 20;) {
      gssize n = g_socket_receive_with_blocking(socket.get(), buf, sizeof buf, FALSE, nullptr,
                                                nullptr);
      if (n >= 4) {
        out.push_back(uint16_t((uint8_t(buf[2]) << 8) | uint8_t(buf[3])));
        idle = 0;
      } else {
        ++idle;
        g_usleep(1000);
      }
    }
    return out;
  }
  GstHarness* h = nullptr;
  Ref<GSocket> socket;
  int port = 0;
  std::shared_ptr<SinkTap> tap;
};

// The replay sent a GOP that ends ahead of the sink (the reader's output was
// still on its way to it): the sink's data up to the GOP's end is the
// replay's to skip, and the viewer goes back to the sink at the first data
// after it, so that it gets each packet once.
TEST(SinkTap, HandsOverAfterTheLastPacketTheReplaySent) {
  SinkAndViewer s;
  auto w = s.tap->hold("127.0.0.1", s.port);
  g_signal_emit_by_name(s.h->element, "add", "127.0.0.1", s.port);  // the library's: swallowed
  s.push(100, 102);
  std::vector<Ref<GstBuffer>> taken;
  s.tap->take(*w, taken);
  EXPECT_EQ(seqs(taken), (std::vector<uint16_t>{100, 101, 102}));
  // The replay's GOP ended at 105; the sink has rendered up to 102.
  ASSERT_TRUE(s.tap->ready_if_drained(*w, 105));
  s.push(103, 106);  // starts before the GOP's end: not handed over
  EXPECT_TRUE(s.received().empty());
  EXPECT_FALSE(s.tap->done(*w));
  s.tap->take(*w, taken);
  EXPECT_EQ(seqs(taken), (std::vector<uint16_t>{103, 104, 105, 106}));
  ASSERT_TRUE(s.tap->ready_if_drained(*w, 106));
  s.push(107, 108);  // the first data after it: the sink's from here on
  EXPECT_TRUE(s.tap->done(*w));
  s.push(109, 109);
  EXPECT_EQ(s.received(), (std::vector<uint16_t>{107, 108, 109}));
}

TEST(SinkTap, HandsOverAcrossTheWrap) {
  SinkAndViewer s;
  auto w = s.tap->hold("127.0.0.1", s.port);
  ASSERT_TRUE(s.tap->ready_if_drained(*w, 65535));
  s.push(65535, 65535);
  EXPECT_FALSE(s.tap->done(*w));
  std::vector<Ref<GstBuffer>> taken;
  s.tap->take(*w, taken);
  ASSERT_TRUE(s.tap->ready_if_drained(*w, 65535));
  s.push(0, 1);
  EXPECT_TRUE(s.tap->done(*w));
  EXPECT_EQ(s.received(), (std::vector<uint16_t>{0, 1}));
}

// A viewer the library removed while held is never given back.
TEST(SinkTap, RemovedWhileHeldIsNotGivenBack) {
  SinkAndViewer s;
  auto w = s.tap->hold("127.0.0.1", s.port);
  ASSERT_TRUE(s.tap->ready_if_drained(*w, 10));
  g_signal_emit_by_name(s.h->element, "remove", "127.0.0.1", s.port);
  s.push(11, 12);
  EXPECT_TRUE(s.tap->done(*w));
  EXPECT_TRUE(s.received().empty());
}

}  // namespace
}  // namespace gms::mounts
