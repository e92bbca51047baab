// Malformed RTCP from a publisher (E03), over UDP to the server's RTCP port
// its SETUP reply names and over TCP on the odd interleaved channel: SDES
// items and PRIV prefixes that run past their packet, a receiver report of
// 31 blocks in 8 bytes, 2000-byte compounds, BYEs with a huge reason, and a
// flood of 10 000 packets a second, half of them sound reports from ever
// new SSRCs. The publisher is our own raw client
// (rtp_publisher.h) sending a picture 25 times a second from a thread of
// its own; a viewer of the path counts every RTP sequence number. The
// RTCP must change nothing the viewer sees (no gap), the server must not
// read past a packet (this program is in the sanitized suite: AddressSanitizer
// watches the server) and its CPU time and memory during the flood stay
// bounded.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "packet_viewer.h"
#include "process.h"
#include "rtcp_packets.h"
#include "rtp_publisher.h"

namespace gms::test {
namespace {

using Clock = std::chrono::steady_clock;

// A pacer's tick: a picture, and `per_tick` RTCP packets taken in turn
// from `packets` (counted in `sent`).
Pacer::Tick with_rtcp(std::vector<std::string> packets, unsigned per_tick,
                      std::atomic<unsigned>& sent) {
  return [packets = std::move(packets), per_tick, &sent, next = size_t(0)](RtpPublisher& pub) mutable {
    std::vector<std::string> burst;
    for (unsigned i = 0; i < per_tick && !packets.empty(); ++i)
      burst.push_back(packets[next++ % packets.size()]);
    sent += unsigned(burst.size());
    return pub.send_frame() && pub.send_rtcp(burst);
  };
}

class RtcpFaults : public testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    ASSERT_GE(h264_key_frame().size(), 3u) << "ffmpeg made no key frame";
    srv_ = std::make_unique<ServerProcess>(std::vector<std::string>{write_temp_file(
        "rtcp.conf", "[server]\nverbose=1\nsession-timeout=5\n[path /live/*]\npublish=true\n")});
    ASSERT_TRUE(srv_->ready()) << srv_->log_tail();
  }
  void TearDown() override {
    if (srv_) {
      EXPECT_FALSE(srv_->log_contains("CRITICAL")) << srv_->log_tail();
      EXPECT_EQ(srv_->stop(), 0) << srv_->log_tail();
    }
  }

  std::unique_ptr<ServerProcess> srv_;
};

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;  // its quarantine holds freed memory: RSS says little
#else
constexpr bool kAsan = false;
#endif

// What a hostile publisher floods with: sound reports, each from a new
// source, and every malformed shape, in turn (20 000 packets).
std::vector<std::string> flood_mix() {
  std::vector<std::string> mix;
  const auto hostile = hostile_rtcp(false);
  for (uint32_t i = 0; i < 10000; ++i) {
    mix.push_back(rtcp_rr_sdes(0x70000000u + i));
    mix.push_back(hostile[i % hostile.size()].bytes);
  }
  return mix;
}

TEST_P(RtcpFaults, MalformedAndFloodedRtcpFromAPublisherIsIgnored) {
  const bool udp = GetParam();
  const std::string path = udp ? "/live/udp" : "/live/tcp";
  RtpPublisher pub(*srv_, path, udp);
  ASSERT_TRUE(pub.ok()) << pub.announced().text << srv_->log_tail();
  std::unique_ptr<PacketViewer> viewer;
  std::atomic<unsigned> rtcp_sent{0};
  {
    Pacer pacer(pub);
    ASSERT_TRUE(wait_until(
        [&] {
          viewer = std::make_unique<PacketViewer>(srv_->port(), srv_->url(path));
          return viewer->ok() || (g_usleep(200000), false);
        },
        20s))
        << srv_->log_tail();
    ASSERT_TRUE(viewer->flowing(50, 10s)) << viewer->state() << "\n" << srv_->log_tail();

    // Every malformed shape, 50 times each, beside the pictures.
    std::vector<std::string> all;
    for (const auto& h : hostile_rtcp())
      all.push_back(h.bytes);
    const unsigned per_tick = unsigned(all.size());
    pacer.set(with_rtcp(std::move(all), per_tick, rtcp_sent));
    g_usleep(2 * G_USEC_PER_SEC);
    pacer.set(with_rtcp({}, 0, rtcp_sent));
    const unsigned malformed = rtcp_sent;
    ASSERT_TRUE(srv_->alive()) << srv_->log_tail();
    EXPECT_TRUE(viewer->flowing(50, 5s)) << viewer->state() << "\n" << srv_->log_tail();

    // The flood: 400 packets with each picture, 10 000 a second, for 2 s;
    // the server's CPU time then against 2 s of pictures alone.
    const GPid pid = srv_->pid();
    double cpu0 = process_cpu_seconds(pid);
    auto t0 = Clock::now();
    g_usleep(2 * G_USEC_PER_SEC);
    const double quiet_cpu = process_cpu_seconds(pid) - cpu0;
    const double quiet_wall = std::chrono::duration<double>(Clock::now() - t0).count();
    const unsigned before_flood = viewer->packets();
    const unsigned sent0 = rtcp_sent;
    const long rss0 = rss_kib(pid);
    cpu0 = process_cpu_seconds(pid);
    t0 = Clock::now();
    pacer.set(with_rtcp(flood_mix(), 400, rtcp_sent));
    g_usleep(2 * G_USEC_PER_SEC);
    pacer.set(with_rtcp({}, 0, rtcp_sent));
    const double flood_wall = std::chrono::duration<double>(Clock::now() - t0).count();
    const unsigned flooded = rtcp_sent - sent0;
    // What the server still had queued is processed within a second.
    g_usleep(G_USEC_PER_SEC);
    const double flood_cpu = process_cpu_seconds(pid) - cpu0;
    const long grown = rss_kib(pid) - rss0;
    const unsigned during_flood = viewer->packets() - before_flood;
    std::printf("E03 %s: %u malformed RTCP packets, then %u in %.1f s (%.0f a second); server CPU "
                "%.2f s for the flood and the second after it, %.2f s for %.1f s of pictures "
                "alone; its RSS grew by %ld KiB; the viewer got %u packets meanwhile, %s\n",
                udp ? "UDP" : "TCP", malformed, flooded, flood_wall, flooded / flood_wall,
                flood_cpu, quiet_cpu, quiet_wall, grown, during_flood, viewer->state().c_str());
    EXPECT_FALSE(pacer.failed()) << "the server stopped taking the publisher's packets\n"
                                 << srv_->log_tail();
    EXPECT_GE(flooded / flood_wall, 5000.0) << "the test could not flood";
    ASSERT_TRUE(srv_->alive()) << srv_->log_tail();
    // Less than 3/4 of a core, also with the sanitizers: a flood must not
    // make the server spin.
    EXPECT_LT(flood_cpu, 0.75 * (flood_wall + 1)) << srv_->log_tail();
    // 10 000 new sources each took some 1.6 KiB in the session, for good.
    if (!kAsan) {
      EXPECT_LT(grown, 8 * 1024) << "the server's memory grew with the flood";
    }
    EXPECT_GE(during_flood, 50u) << viewer->state() << "\n" << srv_->log_tail();
    EXPECT_TRUE(viewer->flowing(50, 5s)) << viewer->state() << "\n" << srv_->log_tail();
  }
  EXPECT_EQ(viewer->gaps(), 0u) << viewer->state();
  EXPECT_FALSE(viewer->closed()) << viewer->state();
  EXPECT_EQ(pub.teardown().status, 200) << srv_->log_tail();
  EXPECT_TRUE(srv_->log_contains("path " + path + ": dropped malformed RTCP"))
      << srv_->log_tail();
  EXPECT_TRUE(srv_->log_contains("path " + path + ": dropped RTCP from more sources"))
      << srv_->log_tail();
}

INSTANTIATE_TEST_SUITE_P(Transports, RtcpFaults, testing::Values(true, false),
                         [](const testing::TestParamInfo<bool>& i) {
                           return std::string(i.param ? "Udp" : "Tcp");
                         });

}  // namespace
}  // namespace gms::test
