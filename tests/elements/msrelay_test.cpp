// msrelaysink / msrelaysrc with GstHarness: packets and caps cross from one
// harness to another through a named channel; key frames, the GOP cache,
// rewriting across producers, EOS after the producer leaves.
#include <gst/rtp/gstrtpbuffer.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "harness.h"
#include "process.h"

namespace gms::test {
namespace {

GstBuffer* rtp(uint16_t seq, uint32_t ts, uint32_t ssrc, uint8_t nal) {
  GstBuffer* b = gst_rtp_buffer_new_allocate(4, 0, 0);
  GstRTPBuffer r = GST_RTP_BUFFER_INIT;
  gst_rtp_buffer_map(b, GST_MAP_WRITE, &r);
  gst_rtp_buffer_set_payload_type(&r, 96);
  gst_rtp_buffer_set_seq(&r, seq);
  gst_rtp_buffer_set_timestamp(&r, ts);
  gst_rtp_buffer_set_ssrc(&r, ssrc);
  auto* p = static_cast<uint8_t*>(gst_rtp_buffer_get_payload(&r));
  p[0] = nal;
  p[1] = p[2] = p[3] = 0;
  gst_rtp_buffer_unmap(&r);
  return b;
}

struct Rtp {
  uint16_t seq;
  uint32_t ts, ssrc;
  uint8_t nal;
};

Rtp read(GstBuffer* b) {
  GstRTPBuffer r = GST_RTP_BUFFER_INIT;
  EXPECT_TRUE(gst_rtp_buffer_map(b, GST_MAP_READ, &r));
  Rtp o{gst_rtp_buffer_get_seq(&r), gst_rtp_buffer_get_timestamp(&r), gst_rtp_buffer_get_ssrc(&r),
        static_cast<uint8_t*>(gst_rtp_buffer_get_payload(&r))[0]};
  gst_rtp_buffer_unmap(&r);
  gst_buffer_unref(b);
  return o;
}

const char kCaps[] =
    "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=96,ssrc=(uint)7";

HarnessPtr sink(const char* channel) {
  HarnessPtr h(gst_harness_new_parse(
      (std::string("msrelaysink max-ahead=0 channel=") + channel).c_str()));
  gst_harness_set_src_caps_str(h.get(), kCaps);
  return h;
}

HarnessPtr src(const char* channel, const char* extra = "") {
  HarnessPtr h(gst_harness_new_parse(
      (std::string("msrelaysrc channel=") + channel + " " + extra).c_str()));
  gst_harness_play(h.get());
  return h;
}

TEST(MsRelay, PacketsAndCapsReachReaders) {
  auto p = sink("t1");
  for (uint16_t i = 0; i < 3; ++i)
    ASSERT_EQ(gst_harness_push(p.get(), rtp(i, 1000 + 3000 * i, 7, i == 0 ? 0x65 : 0x41)), GST_FLOW_OK);
  auto r = src("t1");  // joins late: starts at the cached key frame
  for (uint16_t i = 0; i < 3; ++i) {
    Rtp o = read(gst_harness_pull(r.get()));
    EXPECT_EQ(o.seq, i);
    EXPECT_EQ(o.ssrc, 7u);
  }
  auto caps = Ref<GstCaps>::adopt(gst_pad_get_current_caps(r->sinkpad));
  ASSERT_TRUE(caps);
  const GstStructure* s = gst_caps_get_structure(caps.get(), 0);
  EXPECT_STREQ(gst_structure_get_string(s, "encoding-name"), "H264");
  guint ssrc = 0;
  EXPECT_TRUE(gst_structure_get_uint(s, "ssrc", &ssrc));
  EXPECT_EQ(ssrc, 7u);
  GstStructure* stats = nullptr;
  g_object_get(gst_harness_find_element(p.get(), "msrelaysink"), "stats", &stats, nullptr);
  ASSERT_TRUE(stats);
  guint64 packets = 0, keys = 0, readers = 0;
  gst_structure_get_uint64(stats, "packets", &packets);
  gst_structure_get_uint64(stats, "key-frames", &keys);
  gst_structure_get_uint64(stats, "readers", &readers);
  EXPECT_EQ(packets, 3u);
  EXPECT_EQ(keys, 1u);
  EXPECT_EQ(readers, 1u);
  gst_structure_free(stats);
  gst_object_unref(gst_harness_find_element(p.get(), "msrelaysink"));
}

// The time a packet reached the relay, on the packets a reader gets with
// wall-clock-meta: for the cached ones too, which it gets at once, later.
// Readers without it get no meta.
TEST(MsRelay, WallClockMetaSaysWhenCachedPacketsArrived) {
  auto p = sink("t-wall");
  std::vector<std::pair<gint64, gint64>> pushed;  // wall clock before and after each push
  for (uint16_t i = 0; i < 2; ++i) {
    const gint64 before = g_get_real_time();
    ASSERT_EQ(gst_harness_push(p.get(), rtp(i, 1000 + 3000 * i, 7, i == 0 ? 0x65 : 0x41)), GST_FLOW_OK);
    pushed.emplace_back(before, g_get_real_time());
  }
  const gint64 joined = pushed.back().second + 300000;
  ASSERT_TRUE(wait_until([&] { return g_get_real_time() >= joined; }, 2s));
  auto r = src("t-wall", "wall-clock-meta=true");
  auto plain = src("t-wall");
  auto caps = Ref<GstCaps>::adopt(gst_caps_from_string("timestamp/x-unix"));
  for (const auto& [before, after] : pushed) {
    GstBuffer* b = gst_harness_pull(r.get());
    ASSERT_TRUE(b);
    const GstReferenceTimestampMeta* meta = gst_buffer_get_reference_timestamp_meta(b, caps.get());
    ASSERT_TRUE(meta);
    EXPECT_GE(gint64(meta->timestamp / GST_USECOND), before);
    EXPECT_LE(gint64(meta->timestamp / GST_USECOND), after);
    gst_buffer_unref(b);
    GstBuffer* c = gst_harness_pull(plain.get());
    ASSERT_TRUE(c);
    EXPECT_FALSE(gst_buffer_get_reference_timestamp_meta(c, caps.get()));
    gst_buffer_unref(c);
  }
}

// A reader whose running time began 5 s ago (its base time set back).
HarnessPtr src_started_earlier(const char* channel, const char* extra = "") {
  HarnessPtr h(gst_harness_new_parse(
      (std::string("msrelaysrc channel=") + channel + " " + extra).c_str()));
  auto clock = Ref<GstClock>::adopt(gst_system_clock_obtain());
  gst_element_set_clock(h->element, clock.get());
  gst_element_set_start_time(h->element, GST_CLOCK_TIME_NONE);
  gst_element_set_base_time(h->element, gst_clock_get_time(clock.get()) - 5 * GST_SECOND);
  gst_harness_play(h.get());
  return h;
}

// PTS: when the packet was captured (here: when it reached the relay), what
// the server's RTP session maps to the wall clock in its sender reports.
// DTS: when it is sent, here 300 ms later, from the cache. With
// capture-times both are the capture time.
TEST(MsRelay, PtsIsWhenCapturedDtsWhenSent) {
  auto p = sink("t-times");
  ASSERT_EQ(gst_harness_push(p.get(), rtp(1, 1000, 7, 0x65)), GST_FLOW_OK);
  const gint64 pushed = g_get_monotonic_time();
  ASSERT_TRUE(wait_until([&] { return g_get_monotonic_time() >= pushed + 300000; }, 2s));
  auto r = src_started_earlier("t-times");
  auto c = src_started_earlier("t-times", "capture-times=true");
  GstBuffer* b = gst_harness_pull(r.get());
  ASSERT_TRUE(b);
  ASSERT_TRUE(GST_BUFFER_PTS_IS_VALID(b) && GST_BUFFER_DTS_IS_VALID(b));
  const GstClockTimeDiff late = GST_CLOCK_DIFF(GST_BUFFER_PTS(b), GST_BUFFER_DTS(b));
  EXPECT_GE(late, 290 * GST_MSECOND);
  EXPECT_LT(late, 3 * GST_SECOND);
  EXPECT_GT(GST_BUFFER_PTS(b), 4 * GST_SECOND);  // within the reader's 5 s
  gst_buffer_unref(b);
  b = gst_harness_pull(c.get());
  ASSERT_TRUE(b);
  EXPECT_EQ(GST_BUFFER_PTS(b), GST_BUFFER_DTS(b));
  gst_buffer_unref(b);
}

TEST(MsRelay, NewProducerContinuesSequence) {
  auto r = src("t2", "timeout=0");
  {
    auto p = sink("t2");
    gst_harness_push(p.get(), rtp(500, 9000, 7, 0x65));
    gst_harness_push(p.get(), rtp(501, 12000, 7, 0x41));
    EXPECT_EQ(read(gst_harness_pull(r.get())).seq, 500);
    EXPECT_EQ(read(gst_harness_pull(r.get())).seq, 501);
  }
  auto p2 = sink("t2");
  gst_harness_push(p2.get(), rtp(40000, 77, 99, 0x65));
  Rtp o = read(gst_harness_pull(r.get()));
  EXPECT_EQ(o.seq, 502);
  EXPECT_EQ(o.ssrc, 7u);
  EXPECT_GT(o.ts, 12000u);
}

TEST(MsRelay, EndsAfterProducerTimeout) {
  auto r = src("t3", "timeout=200");
  {
    auto p = sink("t3");
    gst_harness_push(p.get(), rtp(1, 1, 7, 0x65));
    read(gst_harness_pull(r.get()));
  }
  // No producer: EOS after 200 ms.
  GstEvent* ev = nullptr;
  for (int i = 0; i < 300 && !ev; ++i) {
    while ((ev = gst_harness_try_pull_event(r.get())) && GST_EVENT_TYPE(ev) != GST_EVENT_EOS)
      gst_event_unref(ev);
    if (!ev)
      g_usleep(10000);
  }
  ASSERT_TRUE(ev);
  EXPECT_EQ(GST_EVENT_TYPE(ev), GST_EVENT_EOS);
  gst_event_unref(ev);
}

// The first EOS event the source sends within `timeout`, else null.
GstEvent* eos_within(GstHarness* h, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    while (GstEvent* ev = gst_harness_try_pull_event(h)) {
      if (GST_EVENT_TYPE(ev) == GST_EVENT_EOS)
        return ev;
      gst_event_unref(ev);
    }
    g_usleep(10000);
  }
  return nullptr;
}

// A producer that stopped sending but is still attached (a stopped
// publisher before it is cut off): the timeout counts from its last packet.
TEST(MsRelay, EndsAfterSilentProducerTimeout) {
  auto r = src("t5", "timeout=300");
  auto p = sink("t5");
  gst_harness_push(p.get(), rtp(1, 1, 7, 0x65));
  read(gst_harness_pull(r.get()));
  auto sent = std::chrono::steady_clock::now();
  GstEvent* ev = eos_within(r.get(), std::chrono::seconds(3));
  ASSERT_TRUE(ev) << "no EOS while the producer is attached and silent";
  gst_event_unref(ev);
  EXPECT_GE(std::chrono::steady_clock::now() - sent, std::chrono::milliseconds(300));
}

// A producer attached that has not sent yet is waited for.
TEST(MsRelay, WaitsForAnAttachedProducersFirstPacket) {
  auto r = src("t6", "timeout=200");
  auto p = sink("t6");
  GstEvent* ev = eos_within(r.get(), std::chrono::milliseconds(800));
  EXPECT_FALSE(ev);
  if (ev)
    gst_event_unref(ev);
}

// Stretches the instant the race below needs to 2 ms: between create()'s
// hand-over of a list and base src's look at the state, base src logs the
// list's size (gst_base_src_submit_buffer_list); a log function that waits
// there holds the streaming thread in it.
class SlowListHandOver {
 public:
  SlowListHandOver() : was_active_(gst_debug_is_active()) {
    gst_debug_set_active(TRUE);
    gst_debug_remove_log_function(gst_debug_log_default);
    gst_debug_add_log_function(log, nullptr, nullptr);
    gst_debug_set_threshold_for_name("basesrc", GST_LEVEL_LOG);
  }
  ~SlowListHandOver() {
    gst_debug_unset_threshold_for_name("basesrc");
    gst_debug_remove_log_function(log);
    gst_debug_add_log_function(gst_debug_log_default, nullptr, nullptr);
    gst_debug_set_active(was_active_);
  }
  SlowListHandOver(const SlowListHandOver&) = delete;
  SlowListHandOver& operator=(const SlowListHandOver&) = delete;
  static inline std::atomic<unsigned> stretched{0};

 private:
  static void log(GstDebugCategory*, GstDebugLevel, const gchar*, const gchar* function, gint,
                  GObject*, GstDebugMessage*, gpointer) noexcept {
    if (function && g_str_equal(function, "gst_base_src_submit_buffer_list")) {
      ++stretched;
      g_usleep(2000);
    }
  }
  const gboolean was_active_;
};

// A viewer's PAUSE, or a media stopping, while the source hands packet
// lists over: base src 1.22 unrefs a NULL buffer (a CRITICAL, fatal here)
// when a create() that submitted a list returns just as the source leaves
// PLAYING and the source is then stopped before it plays again. Cycles of
// PLAYING, PAUSED, NULL against a producer that never stops, each hand-over
// stretched so that the PAUSE lands in it, must all pass.
TEST(MsRelay, PausedAndStoppedWhileListsAreHandedOver) {
  auto p = sink("t7");
  std::atomic<bool> producing{true};
  std::thread producer([&] {
    for (uint16_t seq = 0; producing; ++seq) {
      gst_harness_push(p.get(), rtp(seq, 90u * seq, 7, seq % 30 == 0 ? 0x65 : 0x41));
      if (seq % 8 == 0)
        g_usleep(200);
    }
  });
  auto pipeline = Ref<GstElement>::adopt(
      gst_parse_launch("msrelaysrc channel=t7 ! fakesink name=out sync=false async=false", nullptr));
  ASSERT_TRUE(pipeline);
  auto out = Ref<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "out"));
  auto pad = Ref<GstPad>::adopt(gst_element_get_static_pad(out.get(), "sink"));
  std::atomic<unsigned> lists{0};
  gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER_LIST,
                    [](GstPad*, GstPadProbeInfo*, gpointer n) noexcept {
                      ++*static_cast<std::atomic<unsigned>*>(n);
                      return GST_PAD_PROBE_OK;
                    },
                    &lists, nullptr);
  SlowListHandOver slow;
  constexpr unsigned kCycles = 200;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  unsigned cycles = 0, flowed = 0;
  for (; cycles < kCycles && std::chrono::steady_clock::now() < end; ++cycles) {
    const unsigned before = lists.load();
    ASSERT_NE(gst_element_set_state(pipeline.get(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    flowed += wait_until([&] { return lists.load() > before; }, std::chrono::seconds(2));
    gst_element_set_state(pipeline.get(), GST_STATE_PAUSED);
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  }
  producing = false;
  producer.join();
  std::printf("%u cycles, data in %u, %u hand-overs stretched\n", cycles, flowed,
              SlowListHandOver::stretched.load());
  EXPECT_GE(cycles, 50u) << "too few cycles in the time to mean anything";
  EXPECT_EQ(flowed, cycles);
  EXPECT_GT(SlowListHandOver::stretched.load(), 0u) << "base src's log line was not met: nothing stretched";
}

TEST(MsRelay, FasterThanRealTimeIsAnError) {
  HarnessPtr p(gst_harness_new_parse("msrelaysink max-ahead=1000 channel=t4"));
  gst_harness_set_src_caps_str(p.get(), kCaps);
  GstFlowReturn last = GST_FLOW_OK;
  // 10 s of RTP time at once.
  for (uint16_t i = 0; i < 300 && last == GST_FLOW_OK; ++i)
    last = gst_harness_push(p.get(), rtp(i, 3000u * i, 7, 0x41));
  EXPECT_EQ(last, GST_FLOW_ERROR);
}

}  // namespace
}  // namespace gms::test

namespace gms::test {
namespace {

GstBuffer* rtp_payload(uint16_t seq, uint32_t ts, const std::vector<uint8_t>& payload) {
  GstBuffer* b = gst_rtp_buffer_new_allocate(static_cast<guint>(payload.size()), 0, 0);
  GstRTPBuffer r = GST_RTP_BUFFER_INIT;
  gst_rtp_buffer_map(b, GST_MAP_WRITE, &r);
  gst_rtp_buffer_set_payload_type(&r, 96);
  gst_rtp_buffer_set_seq(&r, seq);
  gst_rtp_buffer_set_timestamp(&r, ts);
  gst_rtp_buffer_set_ssrc(&r, 7);
  memcpy(gst_rtp_buffer_get_payload(&r), payload.data(), payload.size());
  gst_rtp_buffer_unmap(&r);
  return b;
}

std::string caps_field(GstHarness* h, const char* field) {
  auto caps = Ref<GstCaps>::adopt(gst_pad_get_current_caps(h->sinkpad));
  const char* v = caps ? gst_structure_get_string(gst_caps_get_structure(caps.get(), 0), field) : nullptr;
  return v ? v : "";
}

// In-band parameter sets replace the announced ones for later viewers.
TEST(MsRelay, InBandParameterSetsUpdateCaps) {
  HarnessPtr p(gst_harness_new_parse("msrelaysink max-ahead=0 channel=t5"));
  gst_harness_set_src_caps_str(
      p.get(), "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=96,"
               "sprop-parameter-sets=\"Z0IAHg==,aM4=\"");
  // SPS, PPS (single NAL packets), then an IDR slice.
  gst_harness_push(p.get(), rtp_payload(1, 3000, {0x67, 0x42, 0x00, 0x1f}));
  gst_harness_push(p.get(), rtp_payload(2, 3000, {0x68, 0xce, 0x3c}));
  gst_harness_push(p.get(), rtp_payload(3, 3000, {0x65, 0x88, 0x80}));
  auto r = src("t5");
  gst_buffer_unref(gst_harness_pull(r.get()));  // caps are set with the first packet
  EXPECT_EQ(caps_field(r.get(), "sprop-parameter-sets"), "Z0IAHw==,aM48");
  for (int i = 0; i < 2; ++i)
    gst_buffer_unref(gst_harness_pull(r.get()));
}

TEST(MsRelay, InBandH265ParameterSetsUpdateCaps) {
  HarnessPtr p(gst_harness_new_parse("msrelaysink max-ahead=0 channel=t6"));
  gst_harness_set_src_caps_str(
      p.get(), "application/x-rtp,media=video,encoding-name=H265,clock-rate=90000,payload=96");
  gst_harness_push(p.get(), rtp_payload(1, 3000, {0x40, 0x01, 0x0c}));  // VPS
  gst_harness_push(p.get(), rtp_payload(2, 3000, {0x42, 0x01, 0x01}));  // SPS
  gst_harness_push(p.get(), rtp_payload(3, 3000, {0x44, 0x01, 0xc1}));  // PPS
  gst_harness_push(p.get(), rtp_payload(4, 3000, {0x26, 0x01, 0xaf}));  // IDR
  auto r = src("t6");
  gst_buffer_unref(gst_harness_pull(r.get()));
  EXPECT_EQ(caps_field(r.get(), "sprop-vps"), "QAEM");
  EXPECT_EQ(caps_field(r.get(), "sprop-sps"), "QgEB");
  EXPECT_EQ(caps_field(r.get(), "sprop-pps"), "RAHB");
  for (int i = 0; i < 3; ++i)
    gst_buffer_unref(gst_harness_pull(r.get()));
}

}  // namespace
}  // namespace gms::test

namespace gms::test {
namespace {

// The figures a server reads from the sink (element API, no relay internals):
// packets and the time of the last one.
TEST(MsRelayApi, SinkStatsSayWhenDataLastCame) {
  auto p = sink("api1");
  auto element = Ref<GstElement>::adopt(gst_harness_find_element(p.get(), "msrelaysink"));
  ASSERT_TRUE(element);
  auto stats = [&] {
    GstStructure* s = nullptr;
    g_object_get(element.get(), "stats", &s, nullptr);
    return s;
  };
  GstStructure* before = stats();
  ASSERT_TRUE(before);
  gint64 last = -1;
  EXPECT_TRUE(gst_structure_get_int64(before, "last-data-time", &last));
  EXPECT_EQ(last, 0);
  gst_structure_free(before);
  const gint64 t0 = g_get_monotonic_time();
  ASSERT_EQ(gst_harness_push(p.get(), rtp(1, 1000, 7, 0x65)), GST_FLOW_OK);
  const gint64 t1 = g_get_monotonic_time();
  GstStructure* after = stats();
  guint64 packets = 0;
  EXPECT_TRUE(gst_structure_get_uint64(after, "packets", &packets));
  EXPECT_EQ(packets, 1u);
  EXPECT_TRUE(gst_structure_get_int64(after, "last-data-time", &last));
  EXPECT_GE(last, t0);
  EXPECT_LE(last, t1);
  gst_structure_free(after);
}

// get-gop: what the source sent since its last key frame, for a viewer that
// joins its media late; nothing before a key frame went out.
TEST(MsRelayApi, GetGopReturnsPacketsSinceKeyFrame) {
  auto p = sink("api2");
  auto r = src("api2");
  auto element = Ref<GstElement>::adopt(gst_harness_find_element(r.get(), "msrelaysrc"));
  ASSERT_TRUE(element);
  GstBufferList* none = nullptr;
  g_signal_emit_by_name(element.get(), "get-gop", &none);
  EXPECT_EQ(none, nullptr);
  ASSERT_EQ(gst_harness_push(p.get(), rtp(10, 1000, 7, 0x41)), GST_FLOW_OK);  // no key frame yet
  ASSERT_EQ(gst_harness_push(p.get(), rtp(11, 4000, 7, 0x65)), GST_FLOW_OK);  // IDR
  ASSERT_EQ(gst_harness_push(p.get(), rtp(12, 7000, 7, 0x41)), GST_FLOW_OK);
  for (int i = 0; i < 2; ++i) {
    GstBuffer* b = gst_harness_pull(r.get());
    ASSERT_TRUE(b);
    gst_buffer_unref(b);
  }
  GstBufferList* gop = nullptr;
  g_signal_emit_by_name(element.get(), "get-gop", &gop);
  ASSERT_TRUE(gop);
  ASSERT_EQ(gst_buffer_list_length(gop), 2u);
  Rtp first = read(gst_buffer_ref(gst_buffer_list_get(gop, 0)));
  Rtp second = read(gst_buffer_ref(gst_buffer_list_get(gop, 1)));
  EXPECT_EQ(first.nal, 0x65);
  EXPECT_EQ(second.nal, 0x41);
  EXPECT_EQ(uint16_t(second.seq - first.seq), 1u);
  gst_buffer_list_unref(gop);
}

}  // namespace
}  // namespace gms::test
