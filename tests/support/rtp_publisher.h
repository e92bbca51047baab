// A publisher of our own: ANNOUNCE of an H.264 SDP (or another), SETUP for
// record and RECORD, then the NAL units of a 64x64 key frame as RTP packets
// over the RTSP connection (interleaved) or from a UDP socket of its own to
// the server port the SETUP reply names. Sequence number, timestamp and
// SSRC are the test's to bend.
#pragma once

#include <gio/gio.h>

#include <cstdint>
#include <string>
#include <vector>

#include "gms/ref.h"
#include "publish_raw.h"
#include "rtsp_raw.h"

namespace gms::test {

class ServerProcess;

class RtpPublisher {
 public:
  static constexpr uint32_t kSsrc = 0x1234abcd;
  static constexpr uint32_t kFrameTicks = 3600;  // 25 frames/s at 90 kHz

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

  // The packets of one picture at the current timestamp (marker on the
  // last); sequence numbers advance. `lead`, when not empty, is one more
  // NAL unit sent first (a filler unit carrying a mark, for instance).
  std::vector<std::string> frame(const std::string& lead = "");
  // False once the server closed the connection or stopped reading.
  bool send(const std::vector<std::string>& packets);
  // One picture now, then the clock moves a frame on.
  bool send_frame(const std::string& lead = "");
  RtspReply teardown();

  uint16_t seq = 1000;
  uint32_t ts = 90000;
  uint32_t ssrc = kSsrc;

 private:
  RawRtsp conn_;
  std::string url_, session_;
  RtspReply announce_;
  Ref<GSocket> rtp_, rtcp_;
  uint16_t server_rtp_ = 0;
  bool ok_ = false;
};

}  // namespace gms::test
