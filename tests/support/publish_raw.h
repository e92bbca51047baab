// Raw RTSP requests for publishing tests: ANNOUNCE with any SDP, SETUP for
// record or play, RECORD, and interleaved RTP frames.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace gms::test {

std::string h264_sdp(unsigned tracks = 1);
std::string describe(const std::string& url, int cseq);
std::string announce(const std::string& url, const std::string& sdp, int cseq);
std::string setup_record(const std::string& url, int cseq, int channel = 0);
std::string setup_play(const std::string& url, int cseq);
std::string record(const std::string& url, const std::string& session, int cseq);
// "abc" from "Session: abc;timeout=60".
std::string session_id(const std::string& header);
// One interleaved frame: '$', channel, 16-bit length, data.
std::string interleaved(uint8_t channel, const std::string& data);
// An RTP packet (12-byte header + payload).
std::string rtp_packet(uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
                       const std::string& payload, bool marker = true);

class ServerProcess;
// The publisher of `path` has announced and its packets arrive: a DESCRIBE
// succeeds (retried until `timeout_ms`).
bool wait_published(ServerProcess& srv, const std::string& path, unsigned timeout_ms = 20000);
// The same for the full URL of a server on 127.0.0.1:`port`.
bool wait_published(uint16_t port, const std::string& url, unsigned timeout_ms = 20000);

}  // namespace gms::test
