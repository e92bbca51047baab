// The relay's cores without pads: RelayHub (bounded leaky consumers, GOP
// cache, producer generations), key-frame detection per codec, the RTP
// rewriter, and the ANNOUNCE whitelist.
#include <gtest/gtest.h>

#include "mounts/announce_check.h"
#include "relay/relay_hub.h"
#include "relay/rtp_keyframe.h"
#include "relay/rtp_rewriter.h"

namespace gms::relay {
namespace {

using namespace std::chrono_literals;

Ref<GstBuffer> packet(size_t size, guint8 tag = 0) {
  auto b = Ref<GstBuffer>::adopt(gst_buffer_new_allocate(nullptr, size, nullptr));
  gst_buffer_memset(b.get(), 0, tag, size);
  return b;
}

guint8 tag_of(const Item& item) {
  guint8 t = 0;
  gst_buffer_extract(item.buffer.get(), 0, &t, 1);
  return t;
}

TEST(RelayHub, ConsumerGetsCapsThenPackets) {
  Channel ch("a");
  uint64_t p = ch.attach_producer();
  auto caps = Ref<GstCaps>::adopt(gst_caps_from_string("application/x-rtp,media=video"));
  ch.set_caps(p, caps.get());
  auto c = ch.subscribe(1 << 20, true);
  ch.push(p, packet(100, 1).get(), true);
  Item it;
  ASSERT_EQ(c->pop(it, 10ms), Consumer::Result::kItem);
  EXPECT_TRUE(it.caps);
  ASSERT_EQ(c->pop(it, 10ms), Consumer::Result::kItem);
  EXPECT_EQ(tag_of(it), 1);
  EXPECT_EQ(c->pop(it, 10ms), Consumer::Result::kTimeout);
  EXPECT_EQ(c->pushed(), 1u);
}

TEST(RelayHub, NewConsumerStartsAtCachedKeyFrame) {
  Channel ch("a");
  uint64_t p = ch.attach_producer();
  ch.push(p, packet(10, 1).get(), false);  // before any key frame: not cached
  ch.push(p, packet(10, 2).get(), true);
  ch.push(p, packet(10, 3).get(), false);
  ch.push(p, packet(10, 4).get(), false);
  EXPECT_EQ(ch.cached().size(), 3u);
  auto c = ch.subscribe(1 << 20, true);
  Item it;
  std::vector<int> got;
  while (c->pop(it, 1ms) == Consumer::Result::kItem)
    got.push_back(tag_of(it));
  EXPECT_EQ(got, (std::vector<int>{2, 3, 4}));
  // The next key frame restarts the cache.
  ch.push(p, packet(10, 5).get(), true);
  EXPECT_EQ(ch.cached().size(), 1u);
}

TEST(RelayHub, WithoutCacheWaitsForNextKeyFrame) {
  Channel ch("a");
  uint64_t p = ch.attach_producer();
  ch.push(p, packet(10, 1).get(), true);
  auto c = ch.subscribe(1 << 20, false);
  ch.push(p, packet(10, 2).get(), false);
  ch.push(p, packet(10, 3).get(), true);
  Item it;
  ASSERT_EQ(c->pop(it, 1ms), Consumer::Result::kItem);
  EXPECT_EQ(tag_of(it), 3);
}

TEST(RelayHub, CacheIsBoundedInBytes) {
  Channel ch("a");
  ch.configure_cache(true, 1000);
  uint64_t p = ch.attach_producer();
  ch.push(p, packet(600, 1).get(), true);
  EXPECT_EQ(ch.cached().size(), 1u);
  ch.push(p, packet(600, 2).get(), false);  // the GOP no longer fits: dropped
  EXPECT_TRUE(ch.cached().empty());
  EXPECT_EQ(ch.state().cached_bytes, 0u);
  ch.push(p, packet(100, 3).get(), false);  // not a start: still nothing
  EXPECT_TRUE(ch.cached().empty());
  ch.push(p, packet(100, 4).get(), true);
  EXPECT_EQ(ch.cached().size(), 1u);
  ch.configure_cache(false, 1000);
  EXPECT_TRUE(ch.cached().empty());
}

TEST(RelayHub, SlowConsumerLosesOnlyItsOwnAndRestartsAtKeyFrame) {
  Channel ch("a");
  uint64_t p = ch.attach_producer();
  auto slow = ch.subscribe(250, false);
  auto fast = ch.subscribe(1 << 20, false);
  Item it;
  ch.push(p, packet(100, 1).get(), true);
  ch.push(p, packet(100, 2).get(), false);
  ch.push(p, packet(100, 3).get(), false);  // slow's queue overflows: dropped
  ch.push(p, packet(100, 4).get(), false);  // waits for a key frame
  ch.push(p, packet(100, 5).get(), true);
  std::vector<int> got;
  while (slow->pop(it, 1ms) == Consumer::Result::kItem)
    got.push_back(tag_of(it));
  EXPECT_EQ(got, (std::vector<int>{5}));
  EXPECT_EQ(slow->dropped(), 4u);
  got.clear();
  while (fast->pop(it, 1ms) == Consumer::Result::kItem)
    got.push_back(tag_of(it));
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ(fast->dropped(), 0u);
}

TEST(RelayHub, NewestProducerWinsAndGenerationsMove) {
  Channel ch("a");
  uint64_t a = ch.attach_producer();
  auto c = ch.subscribe(1 << 20, false);
  ch.push(a, packet(10, 1).get(), true);
  uint64_t b = ch.attach_producer();  // override
  ch.push(a, packet(10, 2).get(), true);  // the replaced producer is ignored
  ch.push(b, packet(10, 3).get(), true);
  Item it;
  ASSERT_EQ(c->pop(it, 1ms), Consumer::Result::kItem);
  uint64_t g1 = it.generation;
  ASSERT_EQ(c->pop(it, 1ms), Consumer::Result::kItem);
  EXPECT_EQ(tag_of(it), 3);
  EXPECT_GT(it.generation, g1);
  ch.detach_producer(a);  // stale detach: no effect
  EXPECT_TRUE(ch.state().producer);
  ch.detach_producer(b);
  EXPECT_FALSE(ch.state().producer);
  EXPECT_GT(ch.state().producer_left_us, 0);
}

TEST(RelayHub, FlushingWakesReader) {
  Channel ch("a");
  auto c = ch.subscribe(1000, true);
  std::thread t([&] {
    g_usleep(20000);
    c->set_flushing(true);
  });
  Item it;
  EXPECT_EQ(c->pop(it, 5s), Consumer::Result::kFlushing);
  t.join();
}

TEST(RelayHub, ChannelsByName) {
  auto a = Hub::instance().channel("x");
  EXPECT_EQ(Hub::instance().channel("x"), a);
  EXPECT_EQ(Hub::instance().find("x"), a);
  a.reset();
  EXPECT_EQ(Hub::instance().find("x"), nullptr);
}

TEST(KeyFrames, H264) {
  const uint8_t idr[] = {0x65, 0x88};
  const uint8_t sps[] = {0x67, 0x42};
  const uint8_t p_slice[] = {0x41, 0x9a};
  const uint8_t stap[] = {0x18, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce};
  const uint8_t fu_start_idr[] = {0x7c, 0x85, 0x00};
  const uint8_t fu_mid_idr[] = {0x7c, 0x05, 0x00};
  const uint8_t bad_stap[] = {0x18, 0xff, 0xff, 0x67};
  EXPECT_TRUE(inspect_payload(Codec::kH264, idr, 2).key);
  auto k = inspect_payload(Codec::kH264, sps, 2);
  EXPECT_TRUE(k.key && k.parameter_sets);
  EXPECT_FALSE(inspect_payload(Codec::kH264, p_slice, 2).key);
  EXPECT_TRUE(inspect_payload(Codec::kH264, stap, sizeof stap).key);
  EXPECT_TRUE(inspect_payload(Codec::kH264, fu_start_idr, 3).key);
  EXPECT_FALSE(inspect_payload(Codec::kH264, fu_mid_idr, 3).key);
  EXPECT_FALSE(inspect_payload(Codec::kH264, bad_stap, sizeof bad_stap).key);
  EXPECT_FALSE(inspect_payload(Codec::kH264, idr, 0).key);
}

TEST(KeyFrames, H265Vp8Vp9JpegAudio) {
  const uint8_t idr_w_radl[] = {0x26, 0x01};  // type 19
  const uint8_t trail[] = {0x02, 0x01};       // type 1
  const uint8_t fu_idr[] = {0x62, 0x01, 0x93};
  EXPECT_TRUE(inspect_payload(Codec::kH265, idr_w_radl, 2).key);
  EXPECT_FALSE(inspect_payload(Codec::kH265, trail, 2).key);
  EXPECT_TRUE(inspect_payload(Codec::kH265, fu_idr, 3).key);
  const uint8_t vp8_key[] = {0x10, 0x00};
  const uint8_t vp8_inter[] = {0x10, 0x01};
  const uint8_t vp8_cont[] = {0x00, 0x00};
  const uint8_t vp8_ext_key[] = {0x90, 0x80, 0x85, 0x01, 0x00};
  EXPECT_TRUE(inspect_payload(Codec::kVp8, vp8_key, 2).key);
  EXPECT_FALSE(inspect_payload(Codec::kVp8, vp8_inter, 2).key);
  EXPECT_FALSE(inspect_payload(Codec::kVp8, vp8_cont, 2).key);
  EXPECT_TRUE(inspect_payload(Codec::kVp8, vp8_ext_key, 5).key);
  const uint8_t vp9_key[] = {0x08};
  const uint8_t vp9_inter[] = {0x48};
  EXPECT_TRUE(inspect_payload(Codec::kVp9, vp9_key, 1).key);
  EXPECT_FALSE(inspect_payload(Codec::kVp9, vp9_inter, 1).key);
  const uint8_t jpeg_first[] = {0, 0, 0, 0, 1};
  const uint8_t jpeg_next[] = {0, 0, 5, 0x78, 1};
  EXPECT_TRUE(inspect_payload(Codec::kJpeg, jpeg_first, 5).key);
  EXPECT_FALSE(inspect_payload(Codec::kJpeg, jpeg_next, 5).key);
  EXPECT_TRUE(inspect_payload(Codec::kAudio, trail, 2).key);
  EXPECT_EQ(codec_from_encoding("h264", "video"), Codec::kH264);
  EXPECT_EQ(codec_from_encoding("OPUS", "audio"), Codec::kAudio);
  EXPECT_EQ(codec_from_encoding("MP4V-ES", "video"), Codec::kUnknown);
}

TEST(RtpRewriter, PassesFirstProducerThenContinues) {
  RtpRewriter r;
  r.set_clock_rate(90000);
  auto o = r.map(1, 100, 1000, 0xabc, 0);
  EXPECT_FALSE(o.changed);
  EXPECT_EQ(r.ssrc(), 0xabcu);
  o = r.map(1, 101, 4000, 0xabc, 33000);
  EXPECT_FALSE(o.changed);
  // A new producer 1 s later with its own numbering: continue after 101 and
  // 1 s (90000 ticks) after 4000, with the first SSRC.
  o = r.map(2, 50000, 7, 0xdef, 1033000);
  EXPECT_TRUE(o.changed);
  EXPECT_EQ(o.seq, 102);
  EXPECT_EQ(o.ts, 4000u + 90000u);
  EXPECT_EQ(o.ssrc, 0xabcu);
  o = r.map(2, 50001, 3007, 0xdef, 1066000);
  EXPECT_EQ(o.seq, 103);
  EXPECT_EQ(o.ts, 4000u + 90000u + 3000u);
  // Wraps stay continuous.
  RtpRewriter w;
  w.map(1, 65535, 0xffffffffu, 1, 0);
  o = w.map(2, 10, 10, 2, 0);
  EXPECT_EQ(o.seq, 0);
  EXPECT_EQ(o.ts, 0u);
}

TEST(AnnounceCheck, Whitelist) {
  auto check = [](const std::string& sdp) {
    return mounts::check_announce_body(reinterpret_cast<const guint8*>(sdp.data()),
                                       static_cast<guint>(sdp.size()));
  };
  std::string head = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\n";
  auto ok = check(head + "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
                         "m=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/48000/2\r\n"
                         "m=audio 0 RTP/AVP 0\r\n"
                         "m=audio 0 RTP/AVP 98\r\na=rtpmap:98 opus/48000/2\r\n");
  EXPECT_TRUE(ok.ok) << ok.reason;
  EXPECT_EQ(ok.tracks, 4u);
  EXPECT_EQ(check("").status, 400);
  EXPECT_EQ(check(head).status, 400);
  // Relayed as sent: MP3, AC-3, L16/L24 and any encoding at a dynamic type.
  for (const char* media : {"m=audio 0 RTP/AVP 14\r\n",
                            "m=audio 0 RTP/AVP 14\r\na=rtpmap:14 MPA/90000\r\n",
                            "m=audio 0 RTP/AVP 11\r\n",
                            "m=audio 0 RTP/AVP 97\r\na=rtpmap:97 AC3/48000\r\n",
                            "m=audio 0 RTP/AVP 97\r\na=rtpmap:97 L16/44100/2\r\n",
                            "m=audio 0 RTP/AVP 97\r\na=rtpmap:97 L24/48000/6\r\n",
                            "m=audio 0 RTP/AVP 97\r\na=rtpmap:97 G726-32/8000\r\n"}) {
    auto c = check(head + media);
    EXPECT_TRUE(c.ok) << media << c.reason;
  }
  // Vendor ("X-") encodings and CELT, whose depayloaders have a record of
  // memory faults, and PCM with a channel count no layout has, stay out at
  // any type.
  for (const char* media : {"m=audio 0 RTP/AVP 97\r\na=rtpmap:97 X-QDM/44100\r\n",
                            "m=video 0 RTP/AVP 127\r\na=rtpmap:127 X-VENDOR.cam_1/90000\r\n",
                            "m=audio 0 RTP/AVP 97\r\na=rtpmap:97 CELT/48000/2\r\n",
                            "m=audio 0 RTP/AVP 97\r\na=rtpmap:97 L16/44100/3\r\n"})
    EXPECT_EQ(check(head + media).status, 415) << media;
  // Unknown encodings at a static type, odd names and static types with
  // no known meaning stay out.
  EXPECT_EQ(check(head + "m=audio 0 RTP/AVP 3\r\na=rtpmap:3 X-QDM/8000\r\n").status, 415);
  EXPECT_EQ(check(head + "m=audio 0 RTP/AVP 97\r\na=rtpmap:97 A\"B/8000\r\n").status, 400);
  EXPECT_EQ(check(head + "m=audio 0 RTP/AVP 97\r\na=rtpmap:97 " + std::string(40, 'X') +
                  "/8000\r\n").status, 400);
  EXPECT_EQ(check(head + "m=audio 0 RTP/AVP 3\r\n").status, 400);
  EXPECT_EQ(check(head + "m=application 0 RTP/AVP 97\r\na=rtpmap:97 H264/90000\r\n").status, 415);
  EXPECT_EQ(check(head + "m=video 0 RTP/AVP 96\r\n").status, 400);  // no rtpmap
  EXPECT_EQ(check(head + "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/0\r\n").status, 400);
  EXPECT_EQ(check(head + "m=video 0 RTP/AVP 96 97\r\na=rtpmap:96 H264/90000\r\n").status, 415);
  std::string many = head;
  for (int i = 0; i < 9; ++i)
    many += "m=audio 0 RTP/AVP 0\r\n";
  EXPECT_EQ(check(many).status, 400);
}

// Numbers GStreamer's parser would read with atoi(), lines of any length,
// and parameter sets that are not base64: refused before it parses them.
TEST(AnnounceCheck, NumbersLinesAndParameterSets) {
  auto check = [](const std::string& sdp) {
    return mounts::check_announce_body(reinterpret_cast<const guint8*>(sdp.data()),
                                       static_cast<guint>(sdp.size()));
  };
  const std::string head = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\n";
  auto h264 = [&](const std::string& port, const std::string& fmtp, const std::string& extra = "") {
    return head + extra + "m=video " + port + " RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n" +
           (fmtp.empty() ? "" : "a=fmtp:96 " + fmtp + "\r\n");
  };
  const std::string sets = "packetization-mode=1;sprop-parameter-sets=Z0IAHpWoKA9k,aM48gA==";
  for (const std::string& ok :
       {h264("0", sets), h264("5000", sets), h264("65535/2", ""), h264("0", "", "b=AS:2500\r\n"),
        h264("0", "packetization-mode=1; sprop-parameter-sets=Z0IAHpWoKA9k"),
        head + "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H265/90000\r\n"
               "a=fmtp:96 sprop-vps=QAEMAf//;sprop-sps=QgEBAWA=;sprop-pps=RAHAcvA=\r\n"}) {
    auto c = check(ok);
    EXPECT_TRUE(c.ok) << ok << c.reason;
  }
  for (const std::string& bad : {
           h264("99999999999", ""), h264("4294972296", ""), h264("65536", ""), h264("-1", ""),
           h264("0/99999999", ""), h264("0", "", "b=AS:-1\r\n"), h264("0", "", "b=AS:\r\n"),
           h264("0", "", "b=AS:1e9\r\n"), h264("0", "", "b=AS:9999999999\r\n"),
           h264("0", "packetization-mode=1;sprop-parameter-sets="),
           h264("0", "sprop-parameter-sets=,"), h264("0", "sprop-parameter-sets=Z0IA,,aM48"),
           h264("0", "sprop-parameter-sets=Z0I*"), h264("0", "sprop-parameter-sets=Z0I==="),
           h264("0", "sprop-parameter-sets"), h264("0", "x=" + std::string(5000, 'A')),
           head + "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H265/90000\r\na=fmtp:96 sprop-sps=\r\n"}) {
    auto c = check(bad);
    EXPECT_EQ(c.status, 400) << bad.substr(0, 200) << ": " << c.reason;
  }
}

}  // namespace
}  // namespace gms::relay

namespace gms::relay {
namespace {

std::vector<std::vector<uint8_t>> nals_of(Codec codec, const std::vector<uint8_t>& packet) {
  std::vector<std::vector<uint8_t>> out;
  for_each_nal(codec, packet.data(), packet.size(),
               [&](const uint8_t* nal, size_t len) { out.emplace_back(nal, nal + len); });
  return out;
}

TEST(ForEachNal, SingleAggregatedFragmentedAndTruncated) {
  // H.264 single SPS; STAP-A with SPS (2 bytes) and PPS (1 byte); FU-A.
  EXPECT_EQ(nals_of(Codec::kH264, {0x67, 0x42}).size(), 1u);
  auto stap = nals_of(Codec::kH264, {0x18, 0x00, 0x02, 0x67, 0x42, 0x00, 0x01, 0x68});
  ASSERT_EQ(stap.size(), 2u);
  EXPECT_EQ(stap[0], (std::vector<uint8_t>{0x67, 0x42}));
  EXPECT_EQ(stap[1], (std::vector<uint8_t>{0x68}));
  EXPECT_TRUE(nals_of(Codec::kH264, {0x1c, 0x85, 0x00}).empty());
  // A size running past the packet ends the walk; a zero size too.
  EXPECT_EQ(nals_of(Codec::kH264, {0x18, 0x00, 0x01, 0x67, 0x00, 0x09, 0x68}).size(), 1u);
  EXPECT_TRUE(nals_of(Codec::kH264, {0x18, 0x00, 0x00, 0x67}).empty());
  // H.265 AP (type 48) with VPS and SPS of two bytes each; FU (49).
  auto ap = nals_of(Codec::kH265, {0x60, 0x01, 0x00, 0x02, 0x40, 0x01, 0x00, 0x02, 0x42, 0x01});
  ASSERT_EQ(ap.size(), 2u);
  EXPECT_EQ(ap[1], (std::vector<uint8_t>{0x42, 0x01}));
  EXPECT_TRUE(nals_of(Codec::kH265, {0x62, 0x01, 0x93}).empty());
  EXPECT_TRUE(nals_of(Codec::kVp8, {0x10, 0x00}).empty());
  EXPECT_TRUE(nals_of(Codec::kH265, {0x40}).empty());  // shorter than the header
}

}  // namespace
}  // namespace gms::relay
