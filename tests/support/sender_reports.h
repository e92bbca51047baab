// A raw viewer over RTSP/TCP (interleaved) of every track of a path that
// notes when each RTP packet arrived (wall clock) and every RTCP sender
// report, to check that the reports map each track's RTP time to the wall
// clock at which its packets were sent (what a client uses to keep its
// timeline and to sync the tracks).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace gms::test {

struct SrTrack {
  std::string media;        // "video", "audio"
  uint32_t clock_rate = 0;  // from the SDP's rtpmap
  uint32_t ssrc = 0;        // of the first RTP packet
  struct Packet {
    int64_t arrival_us;  // g_get_real_time when it was read
    uint32_t ts;
  };
  struct Report {
    int64_t arrival_us;
    uint64_t ntp;  // 32.32 fixed point, as sent
    uint32_t ts;
    uint32_t ssrc;
    uint32_t packets;  // the sender's packet count
  };
  std::vector<Packet> packets;
  std::vector<Report> reports;
};

struct SrCapture {
  std::string error;  // empty: the session played
  int64_t play_us = 0;  // wall clock of the PLAY reply
  std::vector<SrTrack> tracks;
};

// DESCRIBE, SETUP of every track over TCP, PLAY, then reads for `duration`.
SrCapture capture_sender_reports(uint16_t port, const std::string& path,
                                 std::chrono::milliseconds duration);

// How far one report is from the packets: the median, over the packets that
// arrived within `window` of the report and at least `settle` after the
// PLAY (the cached key frame's burst comes first), of arrival minus the wall
// clock the report gives their RTP time (ms). `ok` false when no packet
// qualified.
struct SrFit {
  bool ok = false;
  double offset_ms = 0;
  size_t packets = 0;
};
SrFit fit_report(const SrCapture& c, const SrTrack& t, const SrTrack::Report& r,
                 std::chrono::milliseconds window = std::chrono::milliseconds(2000),
                 std::chrono::milliseconds settle = std::chrono::milliseconds(1500));

// The wall clock (µs since 1970) of an NTP 32.32 time.
int64_t ntp_to_unix_us(uint64_t ntp);

// One line per report per track ("video SR ntp=… rtp=… offset=… ms"), for
// failure messages.
std::string describe(const SrCapture& c);

}  // namespace gms::test
