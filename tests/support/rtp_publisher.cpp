#include "rtp_publisher.h"

#include <chrono>

#include "key_frame_nals.h"
#include "process.h"
#include "udp_ports.h"

namespace gms::test {

const std::vector<std::string>& h264_key_frame() {
  static const std::vector<std::string> nals = key_frame_nals(false);
  return nals;
}

RtpPublisher::RtpPublisher(ServerProcess& srv, const std::string& path)
    : conn_(srv.port()), url_(srv.url(path)) {}

RtpPublisher::RtpPublisher(ServerProcess& srv, const std::string& path, bool udp,
                           const std::string& sdp)
    : RtpPublisher(srv, path) {
  if (announce(sdp).status == 200)
    setup_and_record(udp);
}

RtspReply RtpPublisher::announce(const std::string& sdp) {
  announce_ = conn_.request(gms::test::announce(url_, sdp, 1));
  return announce_;
}

bool RtpPublisher::setup_and_record(bool udp) {
  std::string setup = setup_record(url_ + "/streamid=0", 2);
  if (udp) {
    if (!udp_pair("127.0.0.1", rtp_, rtcp_))
      return false;
    setup = "SETUP " + url_ + "/streamid=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP;unicast;"
            "client_port=" + std::to_string(local_port(rtp_.get())) + "-" +
            std::to_string(local_port(rtcp_.get())) + ";mode=record\r\n\r\n";
  }
  RtspReply s = conn_.request(setup);
  session_ = session_id(s.header("Session"));
  const std::string transport = s.header("Transport");
  server_rtp_ = uint16_t(transport_value(transport, "server_port="));
  server_rtcp_ = uint16_t(transport_value(transport, "server_port=", true));
  ok_ = s.status == 200 && (!udp || (server_rtp_ != 0 && server_rtcp_ != 0)) &&
        conn_.request(record(url_, session_, 3)).status == 200;
  return ok_;
}

std::vector<std::string> RtpPublisher::frame(const std::string& lead) {
  std::vector<std::string> out;
  if (!lead.empty())
    out.push_back(rtp_packet(96, seq++, ts, ssrc, lead, false));
  const auto& nals = h264_key_frame();
  for (size_t i = 0; i < nals.size(); ++i)
    out.push_back(rtp_packet(96, seq++, ts, ssrc, nals[i], i + 1 == nals.size()));
  return out;
}

bool RtpPublisher::send_on(GSocket* udp, uint16_t port, uint8_t channel,
                           const std::vector<std::string>& packets) {
  if (udp) {
    for (const auto& p : packets)
      if (!send_to_loopback(udp, port, p))
        return false;
    return true;
  }
  std::string batch;
  for (const auto& p : packets)
    batch += interleaved(channel, p);
  return conn_.send(batch);
}

bool RtpPublisher::send(const std::vector<std::string>& packets) {
  return send_on(rtp_.get(), server_rtp_, 0, packets);
}

bool RtpPublisher::send_rtcp(const std::vector<std::string>& packets) {
  return send_on(rtcp_.get(), server_rtcp_, 1, packets);
}

bool RtpPublisher::send_frame(const std::string& lead) {
  bool sent = send(frame(lead));
  ts += kFrameTicks;
  return sent;
}

RtspReply RtpPublisher::teardown() {
  return conn_.request(rtsp_request("TEARDOWN", url_, 9, session_));
}

Pacer::Pacer(RtpPublisher& pub, Tick tick)
    : pub_(pub), tick_(std::move(tick)), thread_([this] { run(); }) {}

Pacer::~Pacer() {
  stop_ = true;
  thread_.join();
}

void Pacer::set(Tick tick) {
  std::lock_guard<std::mutex> g(lock_);
  tick_ = std::move(tick);
}

void Pacer::run() {
  auto due = std::chrono::steady_clock::now();
  while (!stop_) {
    {
      std::lock_guard<std::mutex> g(lock_);
      failed_ = !tick_(pub_) || failed_;
    }
    due += std::chrono::microseconds(kFrameUs);
    std::this_thread::sleep_until(due);
  }
}

}  // namespace gms::test
