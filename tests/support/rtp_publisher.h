// A publisher of our own for the RTP and RTCP fault cases: ANNOUNCE of an
// H.264 SDP (or another), SETUP for record and RECORD, then the NAL units of
// a 64x64 key frame (key_frame_nals.h) as RTP packets over the RTSP
// connection (interleaved) or from UDP sockets of its own to the server
// ports the SETUP reply names. Sequence number, timestamp and SSRC are the
// test's to bend, and it can send RTCP of any shape on the track's RTCP
// channel or port.
#pragma once

#include <gio/gio.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gms/ref.h"
#include "publish_raw.h"
#include "rtsp_raw.h"

namespace gms::test {

class ServerProcess;

constexpr uint32_t kPublisherSsrc = 0x1234abcd;
constexpr uint32_t kFrameTicks = 3600;  // 25 frames/s at 90 kHz
constexpr unsigned kFrameUs = 40000;

// The NAL units of a 64x64 H.264 key frame (empty if ffmpeg made none).
const std::vector<std::string>& h264_key_frame();

class RtpPublisher {
 public:
  static constexpr uint32_t kSsrc = kPublisherSsrc;
  static constexpr uint32_t kFrameTicks = ::gms::test::kFrameTicks;

  // Announces, sets up and records at once.
  RtpPublisher(ServerProcess& srv, const std::string& path, bool udp,
               const std::string& sdp = h264_sdp());
  // Only connects: announce(), then setup_and_record() (for a test that
  // times the ANNOUNCE itself).
  RtpPublisher(ServerProcess& srv, const std::string& path);

  RtspReply announce(const std::string& sdp = h264_sdp());
  bool setup_and_record(bool udp);

  bool ok() const { return ok_; }
  const RtspReply& announced() const { return announce_; }
  uint16_t server_rtp_port() const { return server_rtp_; }
  // The server's RTCP port for the track, as the SETUP reply names it.
  uint16_t server_rtcp_port() const { return server_rtcp_; }

  // The packets of one picture at the current timestamp (marker on the
  // last); sequence numbers advance. `lead`, when not empty, is one more
  // NAL unit sent first (a filler unit carrying a mark, for instance).
  std::vector<std::string> frame(const std::string& lead = "");
  // RTP packets, in one write over TCP, as datagrams over UDP; false once
  // the server closed the connection or stopped reading.
  bool send(const std::vector<std::string>& packets);
  // RTCP packets (each a compound as it is), on channel 1 or to the
  // server's RTCP port.
  bool send_rtcp(const std::vector<std::string>& packets);
  // One picture now, then the clock moves a frame on.
  bool send_frame(const std::string& lead = "");
  RtspReply teardown();

  uint16_t seq = 1000;
  uint32_t ts = 90000;
  uint32_t ssrc = kSsrc;

 private:
  // From the UDP socket `udp` to the server's `port`, or (null) on the
  // interleaved `channel`.
  bool send_on(GSocket* udp, uint16_t port, uint8_t channel,
               const std::vector<std::string>& packets);

  RawRtsp conn_;
  std::string url_, session_;
  RtspReply announce_;
  Ref<GSocket> rtp_, rtcp_;
  uint16_t server_rtp_ = 0, server_rtcp_ = 0;
  bool ok_ = false;
};

// Runs a tick every 40 ms (a picture's time at 25 a second) on a thread of
// its own until destroyed: by default one picture; the test may change
// what a tick does at any time. The publisher is the pacer's while it
// runs (over TCP, RTP and RTCP share the connection).
class Pacer {
 public:
  // Returns false when a send failed.
  using Tick = std::function<bool(RtpPublisher&)>;
  explicit Pacer(RtpPublisher& pub, Tick tick = [](RtpPublisher& p) { return p.send_frame(); });
  ~Pacer();
  Pacer(const Pacer&) = delete;
  Pacer& operator=(const Pacer&) = delete;

  void set(Tick tick);
  bool failed() const { return failed_; }

 private:
  void run();

  RtpPublisher& pub_;
  std::mutex lock_;  // protects tick_
  Tick tick_;
  std::atomic<bool> stop_{false}, failed_{false};
  std::thread thread_;
};

}  // namespace gms::test
