#include "rtp_publisher.h"

#include <cstdlib>

#include "key_frame_nals.h"
#include "process.h"

namespace gms::test {

const std::vector<std::string>& h264_key_frame() {
  static const std::vector<std::string> nals = key_frame_nals(false);
  return nals;
}

Ref<GSocket> udp_socket(const char* ip, unsigned port) {
  GErrorPtr err;
  auto s = Ref<GSocket>::adopt(
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, out(err)));
  if (!s)
    return {};
  auto addr = Ref<GSocketAddress>::adopt(g_inet_socket_address_new_from_string(ip, port));
  if (!g_socket_bind(s.get(), addr.get(), FALSE, out(err)))
    return {};
  return s;
}

uint16_t local_port(GSocket* s) {
  auto a = Ref<GSocketAddress>::adopt(g_socket_get_local_address(s, nullptr));
  return a ? g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(a.get())) : 0;
}

unsigned transport_value(const std::string& transport, const std::string& key) {
  auto at = transport.find(key);
  return at == std::string::npos ? 0 : unsigned(std::strtoul(transport.c_str() + at + key.size(), nullptr, 10));
}

RtpPublisher::RtpPublisher(ServerProcess& srv, const std::string& path, bool udp,
                           const std::string& sdp)
    : conn_(srv.port()), url_(srv.url(path)) {
  announce_ = conn_.request(announce(url_, sdp, 1));
  if (announce_.status != 200)
    return;
  std::string setup = setup_record(url_ + "/streamid=0", 2);
  if (udp) {
    // An even port and the next, as RTP clients take them.
    for (int i = 0; i < 50 && !rtcp_; ++i) {
      unsigned p = 20000 + 2 * unsigned(g_random_int_range(0, 20000));
      rtp_ = udp_socket("127.0.0.1", p);
      rtcp_ = rtp_ ? udp_socket("127.0.0.1", p + 1) : Ref<GSocket>();
    }
    if (!rtp_ || !rtcp_)
      return;
    setup = "SETUP " + url_ + "/streamid=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP;unicast;"
            "client_port=" + std::to_string(local_port(rtp_.get())) + "-" +
            std::to_string(local_port(rtcp_.get())) + ";mode=record\r\n\r\n";
  }
  RtspReply s = conn_.request(setup);
  session_ = session_id(s.header("Session"));
  const std::string transport = s.header("Transport");
  server_rtp_ = uint16_t(transport_value(transport, "server_port="));
  auto dash = transport.find('-', transport.find("server_port="));
  server_rtcp_ = server_rtp_ && dash != std::string::npos
                     ? uint16_t(std::strtoul(transport.c_str() + dash + 1, nullptr, 10))
                     : 0;
  ok_ = s.status == 200 && (!udp || server_rtcp_ != 0) &&
        conn_.request(record(url_, session_, 3)).status == 200;
}

std::vector<std::string> RtpPublisher::frame() {
  std::vector<std::string> out;
  const auto& nals = h264_key_frame();
  for (size_t i = 0; i < nals.size(); ++i)
    out.push_back(rtp_packet(96, seq++, ts, ssrc, nals[i], i + 1 == nals.size()));
  return out;
}

bool RtpPublisher::send_on(GSocket* udp, uint16_t port, uint8_t channel,
                           const std::vector<std::string>& packets) {
  if (udp) {
    auto dest = Ref<GSocketAddress>::adopt(g_inet_socket_address_new_from_string("127.0.0.1", port));
    for (const auto& p : packets)
      if (g_socket_send_to(udp, dest.get(), p.data(), p.size(), nullptr, nullptr) < 0)
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

bool RtpPublisher::send_frame() {
  bool sent = send(frame());
  ts += kFrameTicks;
  return sent;
}

RtspReply RtpPublisher::teardown() { return conn_.request(rtsp_request("TEARDOWN", url_, 9, session_)); }

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
