// The TCP joiner's gate (src/mounts/tcp_join_gate.h) in front of a real
// sink pad: packets wait while it is closed and pass once it opens, the
// first one stopped is known, the counters read as it closes see no packet
// of those stopped, a gate nobody opens lets packets through after 2 s,
// and a media being stopped (its pad flushing) is never held up by it.
#include <gst/check/gstharness.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "mounts/tcp_join_gate.h"

namespace gms {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

GstBuffer* rtp(uint16_t seq, uint32_t rtptime) {
  GstBuffer* b = gst_rtp_buffer_new_allocate(10, 0, 0);
  GstRTPBuffer r = GST_RTP_BUFFER_INIT;
  gst_rtp_buffer_map(b, GST_MAP_WRITE, &r);
  gst_rtp_buffer_set_seq(&r, seq);
  gst_rtp_buffer_set_timestamp(&r, rtptime);
  gst_rtp_buffer_unmap(&r);
  return b;
}

// A fakesink whose sink pad the gate closes, fed by a thread of the test.
struct Sink {
  Sink() {
    h = gst_harness_new("fakesink");
    g_object_set(h->element, "sync", FALSE, "async", FALSE, "signal-handoffs", TRUE, nullptr);
    g_signal_connect(h->element, "handoff",
                     G_CALLBACK(+[](GstElement*, GstBuffer*, GstPad*, gpointer n) {
                       static_cast<std::atomic<int>*>(n)->fetch_add(1);
                     }),
                     &rendered);
    gst_harness_set_src_caps_str(h, "application/x-rtp");
    pad = gst_element_get_static_pad(h->element, "sink");
  }
  ~Sink() {
    if (pusher.joinable())
      pusher.join();
    gst_object_unref(pad);
    gst_harness_teardown(h);
  }
  void push_in_thread(uint16_t seq) {
    pusher = std::thread([this, seq] { pushed = gst_harness_push(h, rtp(seq, 1000u + seq)); });
  }
  bool wait_rendered(int n, std::chrono::milliseconds bound) {
    const auto until = Clock::now() + bound;
    while (rendered.load() < n && Clock::now() < until)
      std::this_thread::sleep_for(1ms);
    return rendered.load() >= n;
  }

  GstHarness* h = nullptr;
  GstPad* pad = nullptr;
  std::atomic<int> rendered{0};
  std::thread pusher;
  GstFlowReturn pushed = GST_FLOW_ERROR;
};

TEST(TcpJoinGate, HoldsPacketsUntilOpenedAndKnowsTheFirst) {
  Sink s;
  ASSERT_EQ(gst_harness_push(s.h, rtp(1, 1001)), GST_FLOW_OK);  // before: passes
  int counted_at_close = -1;
  auto gate = TcpJoinGate::close(s.pad, 20ms, [&] { counted_at_close = s.rendered.load(); });
  ASSERT_TRUE(gate);
  EXPECT_EQ(counted_at_close, 1);
  EXPECT_FALSE(gate->first_held(0ms));
  s.push_in_thread(2);
  auto first = gate->first_held(1s);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->seq, 2);
  EXPECT_EQ(first->rtptime, 1002u);
  EXPECT_FALSE(s.wait_rendered(2, 100ms)) << "a packet went past the closed gate";
  gate->open();
  EXPECT_TRUE(s.wait_rendered(2, 1s));
  s.pusher.join();
  EXPECT_EQ(s.pushed, GST_FLOW_OK);
  ASSERT_EQ(gst_harness_push(s.h, rtp(3, 1003)), GST_FLOW_OK);  // after: passes
  EXPECT_EQ(s.rendered.load(), 3);
}

TEST(TcpJoinGate, DestroyedOpens) {
  Sink s;
  {
    auto gate = TcpJoinGate::close(s.pad, 20ms, [] {});
    ASSERT_TRUE(gate);
    s.push_in_thread(7);
    ASSERT_TRUE(gate->first_held(1s));
  }
  EXPECT_TRUE(s.wait_rendered(1, 1s));
}

TEST(TcpJoinGate, NotClosedWhileAPacketIsInTheChain) {
  Sink s;
  // The pad's stream lock, as a chain in progress holds it.
  GST_PAD_STREAM_LOCK(s.pad);
  std::unique_ptr<TcpJoinGate> gate;
  bool called = false;
  std::thread([&] { gate = TcpJoinGate::close(s.pad, 30ms, [&] { called = true; }); }).join();
  GST_PAD_STREAM_UNLOCK(s.pad);
  EXPECT_FALSE(gate);
  EXPECT_FALSE(called);
  ASSERT_EQ(gst_harness_push(s.h, rtp(1, 1)), GST_FLOW_OK);  // no probe was left behind
}

TEST(TcpJoinGate, ForgottenGateLetsPacketsThroughAfterTwoSeconds) {
  Sink s;
  auto gate = TcpJoinGate::close(s.pad, 20ms, [] {});
  ASSERT_TRUE(gate);
  const auto t0 = Clock::now();
  s.push_in_thread(9);
  EXPECT_TRUE(s.wait_rendered(1, 5s));
  const auto waited = Clock::now() - t0;
  EXPECT_GE(waited, 1900ms);
  EXPECT_LT(waited, 3500ms);
}

TEST(TcpJoinGate, AFlushingPadIsNotHeld) {
  Sink s;
  auto gate = TcpJoinGate::close(s.pad, 20ms, [] {});
  ASSERT_TRUE(gate);
  s.push_in_thread(4);
  ASSERT_TRUE(gate->first_held(1s));
  const auto t0 = Clock::now();
  gst_pad_send_event(s.pad, gst_event_new_flush_start());  // as a media being stopped
  s.pusher.join();
  EXPECT_LT(Clock::now() - t0, 500ms);
  gst_pad_send_event(s.pad, gst_event_new_flush_stop(TRUE));
}

}  // namespace
}  // namespace gms
