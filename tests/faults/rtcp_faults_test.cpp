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
#include <thread>
#include <vector>

#include "packet_viewer.h"
#include "process.h"
#include "publish_raw.h"
#include "rtcp_packets.h"
#include "rtp_publisher.h"
#include "rtsp_raw.h"
#include "sanitizer.h"
#include "udp_ports.h"

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

  // A reference viewer of `path` once its publisher's pictures flow to it
  // (asked again until the path is published).
  void flowing_viewer(const std::string& path, std::unique_ptr<PacketViewer>& viewer) {
    ASSERT_TRUE(wait_until(
        [&] {
          viewer = std::make_unique<PacketViewer>(srv_->port(), srv_->url(path));
          return viewer->ok() || (g_usleep(200000), false);
        },
        20s))
        << srv_->log_tail();
    ASSERT_TRUE(viewer->flowing(50, 10s)) << viewer->state() << "\n" << srv_->log_tail();
  }

  std::unique_ptr<ServerProcess> srv_;
};

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
  const Holdings baseline = holdings_of(srv_->pid());
  auto owned = std::make_unique<RtpPublisher>(*srv_, path, udp);
  RtpPublisher& pub = *owned;
  ASSERT_TRUE(pub.ok()) << pub.announced().text << srv_->log_tail();
  std::unique_ptr<PacketViewer> viewer;
  std::atomic<unsigned> rtcp_sent{0};
  {
    Pacer pacer(pub);
    ASSERT_NO_FATAL_FAILURE(flowing_viewer(path, viewer));

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

    // The flood: 400 packets with each picture, 10 000 a second, until
    // 20 000 are sent (2 s, or longer over TCP when the server reads more
    // slowly: the connection's flow control holds the publisher back); the
    // server's CPU time then against 2 s of pictures alone.
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
    wait_until([&] { return rtcp_sent - sent0 >= 20000; }, 10s);
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
    EXPECT_GE(flooded, 20000u) << "the test could not flood";
    ASSERT_TRUE(srv_->alive()) << srv_->log_tail();
    // Less than 3/4 of a core, also with the sanitizers: a flood must not
    // make the server spin.
    EXPECT_LT(flood_cpu, 0.75 * (flood_wall + 1)) << srv_->log_tail();
    // (Each new source the session took grew it for good: 11-23 MB when
    // a publisher's RTCP could name any number.)
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
  // Everything the two sessions held is given back.
  viewer.reset();
  owned.reset();
  Holdings now;
  EXPECT_TRUE(wait_until(
      [&] {
        now = holdings_of(srv_->pid());
        return now.fds <= baseline.fds && now.threads <= baseline.threads &&
               now.pool_threads <= baseline.pool_threads + 2;
      },
      20s))
      << "fds " << baseline.fds << " -> " << now.fds << ", threads " << baseline.threads << " -> "
      << now.threads << "\ndescriptors now: " << fd_targets(srv_->pid());
}

// A viewer of the path (not its publisher) that sends the same flood of
// sound reports from ever new SSRCs, over UDP to the RTCP port its SETUP
// reply names or on its interleaved channel 1, while a reference viewer
// counts every packet. The shared PLAY media's RTP session learned each
// SSRC for good: the server grew by 8-15 MB. It now takes a few per viewer.
class HostileViewer {
 public:
  HostileViewer(ServerProcess& srv, const std::string& path, bool udp)
      : conn_(srv.port()), url_(srv.url(path)), udp_(udp) {
    ok_ = conn_.request(rtsp_request("DESCRIBE", url_, 1, "", "Accept: application/sdp\r\n"))
              .status == 200;
    std::string transport = "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n";
    if (udp_) {
      ok_ = ok_ && udp_pair("127.0.0.1", rtp_, rtcp_);
      if (ok_)
        transport = "Transport: RTP/AVP;unicast;client_port=" +
                    std::to_string(local_port(rtp_.get())) + "-" +
                    std::to_string(local_port(rtcp_.get())) + "\r\n";
    }
    RtspReply setup = conn_.request(rtsp_request("SETUP", url_ + "/stream=0", 2, "", transport));
    session_ = setup.header("Session").substr(0, setup.header("Session").find(';'));
    server_rtcp_ = uint16_t(transport_value(setup.header("Transport"), "server_port=", true));
    ok_ = ok_ && setup.status == 200 && (!udp_ || server_rtcp_) &&
          conn_.request(rtsp_request("PLAY", url_, 3, session_)).status == 200;
    if (ok_ && !udp_)  // what the server sends it is read and thrown away
      drain_ = std::thread([this] {
        std::string frames;
        while (!stop_) {
          conn_.read_frames(frames, 100);
          frames.clear();
        }
      });
  }
  ~HostileViewer() {
    stop_ = true;
    if (drain_.joinable())
      drain_.join();
  }
  bool ok() const { return ok_; }
  // Sends `packets` as RTCP; false if they could not be sent.
  bool send_rtcp(const std::vector<std::string>& packets) {
    if (udp_) {
      for (const auto& p : packets)
        if (!send_to_loopback(rtcp_.get(), server_rtcp_, p))
          return false;
      return true;
    }
    std::string batch;
    for (const auto& p : packets)
      batch += interleaved(1, p);
    return conn_.send(batch);
  }

 private:
  RawRtsp conn_;
  std::string url_, session_;
  bool udp_;
  bool ok_ = false;
  Ref<GSocket> rtp_, rtcp_;
  uint16_t server_rtcp_ = 0;
  std::atomic<bool> stop_{false};
  std::thread drain_;
};

TEST_P(RtcpFaults, FloodedRtcpFromAViewerIsBoundedPerViewer) {
  const bool udp = GetParam();
  const std::string path = "/live/v";
  RtpPublisher pub(*srv_, path, false);
  ASSERT_TRUE(pub.ok()) << pub.announced().text << srv_->log_tail();
  Pacer pacer(pub);
  std::unique_ptr<PacketViewer> viewer;
  ASSERT_NO_FATAL_FAILURE(flowing_viewer(path, viewer));
  HostileViewer hostile(*srv_, path, udp);
  ASSERT_TRUE(hostile.ok()) << srv_->log_tail();
  const GPid pid = srv_->pid();
  g_usleep(G_USEC_PER_SEC);
  const long rss0 = rss_kib(pid);
  const double cpu0 = process_cpu_seconds(pid);
  const unsigned before = viewer->packets();
  // 20 000 sound reports, each from a new SSRC, 400 every 40 ms.
  unsigned sent = 0;
  auto t0 = Clock::now();
  for (uint32_t batch = 0; batch < 50; ++batch) {
    std::vector<std::string> packets;
    for (uint32_t i = 0; i < 400; ++i)
      packets.push_back(rtcp_rr_sdes(0x50000000u + batch * 400 + i));
    if (!hostile.send_rtcp(packets))
      break;
    sent += unsigned(packets.size());
    std::this_thread::sleep_until(t0 + std::chrono::milliseconds(40 * (batch + 1)));
  }
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  g_usleep(G_USEC_PER_SEC);  // what the server still had queued
  const double cpu = process_cpu_seconds(pid) - cpu0;
  const long grown = rss_kib(pid) - rss0;
  std::printf("E03 viewer over %s: %u reports from new SSRCs in %.1f s; server CPU %.2f s; its RSS "
              "grew by %ld KiB; the reference viewer got %u packets meanwhile, %s\n",
              udp ? "UDP" : "TCP", sent, wall, cpu, grown, viewer->packets() - before,
              viewer->state().c_str());
  EXPECT_EQ(sent, 20000u) << "the test could not flood";
  ASSERT_TRUE(srv_->alive()) << srv_->log_tail();
  EXPECT_LT(cpu, 0.75 * (wall + 1)) << srv_->log_tail();
  if (!kAsan) {
    EXPECT_LT(grown, 4 * 1024) << "the server's memory grew with the flood";
  }
  EXPECT_TRUE(viewer->flowing(50, 5s)) << viewer->state() << "\n" << srv_->log_tail();
  EXPECT_EQ(viewer->gaps(), 0u) << viewer->state();
  EXPECT_TRUE(srv_->log_contains("path " + path + ": dropped RTCP from more sources"))
      << srv_->log_tail();
}

INSTANTIATE_TEST_SUITE_P(Transports, RtcpFaults, testing::Values(true, false),
                         [](const testing::TestParamInfo<bool>& i) {
                           return std::string(i.param ? "Udp" : "Tcp");
                         });

}  // namespace
}  // namespace gms::test
