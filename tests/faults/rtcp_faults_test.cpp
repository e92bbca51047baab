// Malformed RTCP from a publisher (E03), over UDP to the server's RTCP port
// its SETUP reply names and over TCP on the odd interleaved channel: SDES
// items and PRIV prefixes that run past their packet, a receiver report of
// 31 blocks in 8 bytes, 2000-byte compounds, BYEs with a huge reason, and a
// flood of 10 000 packets a second. The publisher is our own raw client
// (rtp_publisher.h) sending a picture 25 times a second from a thread of
// its own; a viewer of the path counts every RTP sequence number. The
// RTCP must change nothing the viewer sees (no gap), the server must not
// read past a packet (this program is in the sanitized suite: AddressSanitizer
// watches the server) and its CPU time during the flood stays bounded.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "packet_viewer.h"
#include "process.h"
#include "rtcp_packets.h"
#include "rtp_publisher.h"

namespace gms::test {
namespace {

using Clock = std::chrono::steady_clock;

// Sends the publisher's pictures at 25 a second, and with each picture
// `per_tick` RTCP packets taken in turn from a list, until destroyed.
class Pacer {
 public:
  explicit Pacer(RtpPublisher& pub) : pub_(pub), thread_([this] { run(); }) {}
  ~Pacer() {
    stop_ = true;
    thread_.join();
  }
  void rtcp(std::vector<std::string> packets, unsigned per_tick) {
    std::lock_guard<std::mutex> g(lock_);
    rtcp_ = std::move(packets);
    per_tick_ = rtcp_.empty() ? 0 : per_tick;
  }
  unsigned rtcp_sent() const { return rtcp_sent_; }
  bool failed() const { return failed_; }

 private:
  void run() {
    size_t next = 0;
    auto due = Clock::now();
    while (!stop_) {
      std::vector<std::string> burst;
      {
        std::lock_guard<std::mutex> g(lock_);
        for (unsigned i = 0; i < per_tick_; ++i)
          burst.push_back(rtcp_[next++ % rtcp_.size()]);
      }
      failed_ = failed_ || !pub_.send_frame() || !pub_.send_rtcp(burst);
      rtcp_sent_ += unsigned(burst.size());
      due += std::chrono::microseconds(kFrameUs);
      std::this_thread::sleep_until(due);
    }
  }

  RtpPublisher& pub_;
  std::mutex lock_;  // protects rtcp_ and per_tick_
  std::vector<std::string> rtcp_;
  unsigned per_tick_ = 0;
  std::atomic<bool> stop_{false}, failed_{false};
  std::atomic<unsigned> rtcp_sent_{0};
  std::thread thread_;
};

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

// What a hostile publisher floods with: sound reports from ever new
// sources and every malformed shape, half and half.
std::vector<std::string> flood_mix() {
  std::vector<std::string> mix;
  const auto hostile = hostile_rtcp(false);
  for (uint32_t i = 0; i < 400; ++i) {
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
    pacer.rtcp(all, unsigned(all.size()));
    g_usleep(2 * G_USEC_PER_SEC);
    pacer.rtcp({}, 0);
    const unsigned malformed = pacer.rtcp_sent();
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
    const unsigned sent0 = pacer.rtcp_sent();
    cpu0 = process_cpu_seconds(pid);
    t0 = Clock::now();
    pacer.rtcp(flood_mix(), 400);
    g_usleep(2 * G_USEC_PER_SEC);
    pacer.rtcp({}, 0);
    const double flood_wall = std::chrono::duration<double>(Clock::now() - t0).count();
    const unsigned flooded = pacer.rtcp_sent() - sent0;
    // What the server still had queued is processed within a second.
    g_usleep(G_USEC_PER_SEC);
    const double flood_cpu = process_cpu_seconds(pid) - cpu0;
    const unsigned during_flood = viewer->packets() - before_flood;
    std::printf("E03 %s: %u malformed RTCP packets, then %u in %.1f s (%.0f a second); server CPU "
                "%.2f s for the flood and the second after it, %.2f s for %.1f s of pictures "
                "alone; the viewer got %u packets meanwhile, %s\n",
                udp ? "UDP" : "TCP", malformed, flooded, flood_wall, flooded / flood_wall,
                flood_cpu, quiet_cpu, quiet_wall, during_flood, viewer->state().c_str());
    EXPECT_FALSE(pacer.failed()) << "the server stopped taking the publisher's packets\n"
                                 << srv_->log_tail();
    EXPECT_GE(flooded / flood_wall, 5000.0) << "the test could not flood";
    ASSERT_TRUE(srv_->alive()) << srv_->log_tail();
    // Less than 3/4 of a core, also with the sanitizers: a flood must not
    // make the server spin.
    EXPECT_LT(flood_cpu, 0.75 * (flood_wall + 1)) << srv_->log_tail();
    EXPECT_GE(during_flood, 50u) << viewer->state() << "\n" << srv_->log_tail();
    EXPECT_TRUE(viewer->flowing(50, 5s)) << viewer->state() << "\n" << srv_->log_tail();
  }
  EXPECT_EQ(viewer->gaps(), 0u) << viewer->state();
  EXPECT_FALSE(viewer->closed()) << viewer->state();
  EXPECT_EQ(pub.teardown().status, 200) << srv_->log_tail();
  EXPECT_TRUE(srv_->log_contains("path " + path + ": dropped malformed RTCP"))
      << srv_->log_tail();
}

INSTANTIATE_TEST_SUITE_P(Transports, RtcpFaults, testing::Values(true, false),
                         [](const testing::TestParamInfo<bool>& i) {
                           return std::string(i.param ? "Udp" : "Tcp");
                         });

}  // namespace
}  // namespace gms::test
