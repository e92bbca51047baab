// Hostile requests at the RTSP front door and in the HTTP tunnel, P1 cases:
// megabyte lines (which gst-rtsp-server 1.22 would cut at 4095 bytes and
// act on), broken CSeq headers, unknown methods and versions, 1000
// pipelined requests, requests at a session's expiry, tunnel cookies used
// from another address, and GETs that never get their POST. Each case
// asserts the answer, that the connection is closed or stays usable as
// due, that a reference viewer loses no packet, that a new viewer plays
// and that fds and threads return to their count before the case.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "packet_viewer.h"
#include "peer.h"
#include "pipelines.h"
#include "process.h"
#include "publish_raw.h"
#include "rtp_publisher.h"
#include "rtsp_raw.h"
#include "udp_ports.h"
#include "viewer.h"

namespace gms::test {
namespace {

using Clock = std::chrono::steady_clock;

std::string session_of(const RtspReply& r) {
  std::string id = r.header("Session");
  return id.substr(0, id.find(';'));
}

std::string options(int cseq, const std::string& extra = "") {
  return "OPTIONS * RTSP/1.0\r\nCSeq: " + std::to_string(cseq) + "\r\n" + extra + "\r\n";
}

// --- The server, its reference viewer and the baseline --------------------

class RequestFaults : public testing::Test {
 protected:
  void start(const std::string& extra = "", unsigned session_timeout = 5) {
    srv_ = std::make_unique<ServerProcess>(std::vector<std::string>{write_temp_file(
        "requests.conf", "[server]\nsession-timeout=" + std::to_string(session_timeout) + "\n" +
                             extra + "[path /a]\nlaunch=" + kMjpeg + "\n")});
    ASSERT_TRUE(srv_->ready()) << srv_->log_tail();
    session_timeout_ = session_timeout;
    ref_ = std::make_unique<PacketViewer>(srv_->port(), srv_->url("/a"));
    ASSERT_TRUE(ref_->ok()) << srv_->log_tail();
    ASSERT_TRUE(ref_->flowing()) << ref_->state() << "\n" << srv_->log_tail();
    {  // What a first TCP and a first UDP session make for the media's life
       // (the stream's UDP sockets and their threads) is in the baseline.
      PacketViewer warm(srv_->port(), srv_->url("/a"));
      ASSERT_TRUE(warm.flowing(20));
      RawRtsp udp(srv_->port());
      ASSERT_EQ(udp.request(rtsp_request("DESCRIBE", srv_->url("/a"), 1, "")).status, 200);
      RtspReply s = udp.request(rtsp_request("SETUP", srv_->url("/a") + "/stream=0", 2, "",
                                             "Transport: RTP/AVP;unicast;client_port=40996-40997\r\n"));
      ASSERT_EQ(s.status, 200) << s.text;
      ASSERT_EQ(udp.request(rtsp_request("PLAY", srv_->url("/a"), 3, session_of(s))).status, 200);
      ASSERT_EQ(udp.request(rtsp_request("TEARDOWN", srv_->url("/a"), 4, session_of(s))).status, 200);
    }
    wait_until([] { return false; }, 500ms);
    baseline_ = holdings_of(srv_->pid());
  }

  // The server lives, the reference viewer lost nothing, a new viewer
  // plays, fds and threads are back within the session timeout and 5 s.
  void expect_unharmed() {
    ASSERT_TRUE(srv_->alive()) << srv_->log_tail();
    EXPECT_TRUE(ref_->flowing()) << ref_->state() << "\n" << srv_->log_tail();
    {
      PacketViewer fresh(srv_->port(), srv_->url("/a"));
      EXPECT_TRUE(fresh.ok() && fresh.flowing(20)) << srv_->log_tail();
    }
    Holdings now;
    bool back = wait_until(
        [&] {
          now = holdings_of(srv_->pid());
          return now.fds <= baseline_.fds && now.threads <= baseline_.threads;
        },
        std::chrono::seconds(session_timeout_ + 5));
    std::printf("fds %d -> %d, threads %d -> %d\n", baseline_.fds, now.fds, baseline_.threads,
                now.threads);
    EXPECT_TRUE(back) << "fds " << baseline_.fds << " -> " << now.fds << ", threads "
                      << baseline_.threads << " -> " << now.threads << " ("
                      << thread_names(srv_->pid()) << ")";
    EXPECT_FALSE(srv_->log_contains("CRITICAL")) << srv_->log_tail();
  }
  void TearDown() override {
    ref_.reset();
    if (srv_ && HasFailure())
      std::printf("server log:\n%s\n", srv_->log_tail(200).c_str());
    if (srv_) {
      EXPECT_EQ(srv_->stop(), 0) << srv_->log_tail();
    }
  }

  // DESCRIBE and SETUP of stream 0 over TCP on `c`; the session id.
  std::string setup_tcp(Peer& c, int& cseq) {
    const std::string url = srv_->url("/a");
    c.send_all(rtsp_request("DESCRIBE", url, cseq++, ""));
    EXPECT_EQ(c.reply().status, 200);
    c.send_all(rtsp_request("SETUP", url + "/stream=0", cseq++, "",
                            "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"));
    RtspReply s = c.reply();
    EXPECT_EQ(s.status, 200) << s.text;
    return session_of(s);
  }

  std::unique_ptr<ServerProcess> srv_;
  std::unique_ptr<PacketViewer> ref_;
  Holdings baseline_;
  unsigned session_timeout_ = 5;
};

// --- A03: megabyte lines ---------------------------------------------------

constexpr size_t kMegabyte = 1 << 20;

// Refused with one of `statuses`, then closed; never answered 200.
void expect_refused_and_closed(Peer& c, std::initializer_list<int> statuses, const char* what) {
  RtspReply r = c.reply(15s);
  bool listed = false;
  for (int s : statuses)
    listed = listed || r.status == s;
  EXPECT_TRUE(listed) << what << ": " << r.text.substr(0, 300);
  EXPECT_TRUE(c.closed_within(10s)) << what << ": connection left open";
}

TEST_F(RequestFaults, MegabyteLinesAreRefusedNeverCut) {
  ASSERT_NO_FATAL_FAILURE(start());
  const std::string url = srv_->url("/a");
  // As the first request (read by our front door) and as the second one on
  // a connection (read by the library, which cuts lines at 4095 bytes and
  // reads a byte at a time: 100 KB there, to keep the run short; the 1 MB
  // Session below goes through it too).
  for (bool second : {false, true}) {
    SCOPED_TRACE(second ? "second request" : "first request");
    const std::string big(second ? 100000 : kMegabyte, 'q');
    auto lead = [&](Peer& c) {
      if (second) {
        c.send_all(options(1));
        ASSERT_EQ(c.reply().status, 200);
      }
    };
    {
      Peer c(srv_->port());
      lead(c);
      c.send_in_background("DESCRIBE " + url + "?" + big + " RTSP/1.0\r\nCSeq: 2\r\n\r\n");
      expect_refused_and_closed(c, {414}, "1 MB request line");
    }
    {
      Peer c(srv_->port());
      lead(c);
      c.send_in_background(options(2, "X-Big: " + big + "\r\n"));
      expect_refused_and_closed(c, {431}, "1 MB header");
    }
    {
      Peer c(srv_->port());
      lead(c);
      c.send_in_background(rtsp_request("DESCRIBE", url, 2, std::string(big.size(), '7')));
      expect_refused_and_closed(c, {400, 431}, "1 MB Session");
    }
  }
  // A real session id, then junk past the library's 4095-byte cut: after
  // the cut, ";junk" or trailing blanks would leave the id alone. The PLAY
  // must not start that session.
  for (const std::string& tail : {";" + std::string(kMegabyte, 'j'), ";" + std::string(5000, 'j')}) {
    Peer c(srv_->port());
    int cseq = 1;
    std::string id = setup_tcp(c, cseq);
    ASSERT_FALSE(id.empty());
    c.send_in_background("PLAY " + url + " RTSP/1.0\r\nCSeq: " + std::to_string(cseq++) +
                         "\r\nSession: " + id + tail + "\r\n\r\n");
    RtspReply r = c.reply(15s);
    EXPECT_TRUE(r.status == 400 || r.status == 431) << tail.size() << " bytes after the id: "
                                                    << r.text.substr(0, 300);
    EXPECT_TRUE(c.closed_within(10s)) << "connection left open";
  }
  // Well under the cut, the same header is fine.
  {
    Peer c(srv_->port());
    c.send_all(options(1, "X-Some: " + std::string(3000, 's') + "\r\n"));
    EXPECT_EQ(c.reply().status, 200);
  }
  expect_unharmed();
}

// --- A05: broken CSeq -------------------------------------------------------

TEST_F(RequestFaults, BrokenCSeqIsRefusedAndTheConnectionGoesOn) {
  ASSERT_NO_FATAL_FAILURE(start());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"missing", ""},
      {"repeated", "CSeq: 5\r\nCSeq: 6\r\n"},
      {"-1", "CSeq: -1\r\n"},
      {"2^64", "CSeq: 18446744073709551616\r\n"},
      {"1e9", "CSeq: 1e9\r\n"},
      {"10 KB", "CSeq: " + std::string(10240, '9') + "\r\n"},
      {"1 then 10 KB", "CSeq: 1" + std::string(10240, 'x') + "\r\n"},
      {"empty", "CSeq: \r\n"},
  };
  for (bool first : {true, false}) {
    for (const auto& [what, header] : cases) {
      SCOPED_TRACE(std::string(first ? "first request, CSeq " : "second request, CSeq ") + what);
      Peer c(srv_->port());
      if (!first) {
        c.send_all(options(1));
        ASSERT_EQ(c.reply().status, 200);
      }
      c.send_all("OPTIONS * RTSP/1.0\r\n" + header + "\r\n");
      RtspReply r = c.reply();
      EXPECT_LT(r.text.size(), 600u) << "the bad value echoed";
      if (header.size() > 4000) {
        // Past the library's cut: refused as too large, and closed.
        EXPECT_EQ(r.status, 431) << r.text.substr(0, 300);
        EXPECT_TRUE(c.closed_within(10s));
        continue;
      }
      EXPECT_EQ(r.status, 400) << r.text.substr(0, 300);
      // The library closes the connection after a CSeq it cannot read
      // (missing, negative, too big, empty); on a later request we cannot
      // stop it (DISABLED_ test below).
      bool library_closes = what == "missing" || what == "-1" || what == "2^64" || what == "empty";
      if (!first && library_closes)
        continue;
      // The same connection answers the next valid request.
      c.send_all(options(77));
      RtspReply next = c.reply();
      EXPECT_EQ(next.status, 200) << next.text.substr(0, 300);
      EXPECT_EQ(next.header("CSeq"), "77");
    }
  }
  expect_unharmed();
}

// Open: gst-rtsp-server 1.22 answers 400 to a later request whose CSeq it
// cannot read (missing, -1, 2^64, empty) and then closes the connection;
// no hook runs between its parser and that close. Run with
// --gtest_also_run_disabled_tests to see it.
TEST_F(RequestFaults, DISABLED_UnreadableCSeqOnALaterRequestKeepsTheConnection) {
  ASSERT_NO_FATAL_FAILURE(start());
  for (const char* header : {"", "CSeq: -1\r\n", "CSeq: 18446744073709551616\r\n", "CSeq: \r\n"}) {
    Peer c(srv_->port());
    c.send_all(options(1));
    ASSERT_EQ(c.reply().status, 200);
    c.send_all(std::string("OPTIONS * RTSP/1.0\r\n") + header + "\r\n");
    EXPECT_EQ(c.reply().status, 400);
    c.send_all(options(77));
    EXPECT_EQ(c.reply().status, 200) << header;
  }
}

// Open: a later request's `Session: <id>` followed by blanks past the
// library's 4095-byte cut is taken as <id> (the cut and trailing blanks
// leave no trace in the parsed request). Within our server the id must be
// the connection's own session (another connection's gets 454).
TEST_F(RequestFaults, DISABLED_BlankPaddedSessionPastTheCutIsNotTaken) {
  ASSERT_NO_FATAL_FAILURE(start());
  for (const std::string& tail : std::vector<std::string>{std::string(4100, ' ') + "X", ";" + std::string(4100, ' ') + "timeout=99"}) {
    Peer c(srv_->port());
    int cseq = 1;
    std::string id = setup_tcp(c, cseq);
    c.send_all("PLAY " + srv_->url("/a") + " RTSP/1.0\r\nCSeq: 9\r\nSession: " + id + tail + "\r\n\r\n");
    RtspReply r = c.reply(15s);
    EXPECT_TRUE(r.status == 400 || r.status == 431) << r.text.substr(0, 300);
  }
}

// An OPTIONS naming another connection's session: refused or answered,
// never the end of the server (gst-rtsp-server 1.22 freed the reply on its
// stack when pre-options-request refused, and our session-owner check did).
TEST_F(RequestFaults, OptionsWithAnotherConnectionsSessionIsAnswered) {
  ASSERT_NO_FATAL_FAILURE(start());
  {
    Peer owner(srv_->port());
    int cseq = 1;
    std::string id = setup_tcp(owner, cseq);
    ASSERT_FALSE(id.empty());
    for (int i = 0; i < 3; ++i) {
      Peer other(srv_->port());
      other.send_all(rtsp_request("OPTIONS", "*", 1, id));
      RtspReply r = other.reply();
      EXPECT_TRUE(r.status == 200 || r.status == 454) << r.text.substr(0, 300);
    }
    ASSERT_TRUE(srv_->alive()) << srv_->log_tail();
    owner.send_all(rtsp_request("OPTIONS", "*", cseq++, id));
    EXPECT_EQ(owner.reply().status, 200);
  }
  expect_unharmed();
}

// --- A06: methods and versions ----------------------------------------------

TEST_F(RequestFaults, UnknownMethodsAndVersionsGetTheirStatus) {
  ASSERT_NO_FATAL_FAILURE(start());
  const std::string url = srv_->url("/a");
  struct Case {
    std::string request;
    int status;
    bool http;
  };
  const std::vector<Case> cases = {
      {"FOO " + url + " RTSP/1.0\r\nCSeq: 3\r\n\r\n", 501, false},
      {"PLAYY " + url + " RTSP/1.0\r\nCSeq: 3\r\n\r\n", 501, false},
      {"OPTIONS " + url + " RTSP/9.9\r\nCSeq: 3\r\n\r\n", 505, false},
      {"OPTIONS " + url + " RTSP/1.1\r\nCSeq: 3\r\n\r\n", 505, false},
      {"PUT /a HTTP/1.0\r\n\r\n", 405, true},
      {"DELETE /a HTTP/1.1\r\nHost: x\r\n\r\n", 405, true},
      {"HEAD /a HTTP/1.0\r\n\r\n", 405, true},
      {"OPTIONS /a HTTP/1.1\r\nHost: x\r\n\r\n", 405, true},
  };
  for (bool first : {true, false}) {
    for (const auto& c : cases) {
      SCOPED_TRACE((first ? "first: " : "second: ") + c.request.substr(0, c.request.find('\r')));
      Peer p(srv_->port());
      if (!first) {
        p.send_all(options(1));
        ASSERT_EQ(p.reply().status, 200);
      }
      // A valid request pipelined behind it, in the same write.
      p.send_all(c.request + options(88));
      RtspReply r = p.reply();
      if (!first && c.status != 501) {
        // gst-rtsp-server 1.22 closes a connection on a later request it
        // cannot read, without an answer (DISABLED_ test below); the
        // server goes on.
        EXPECT_TRUE(r.status == c.status || (r.status == 0 && p.closed_within(5s)))
            << r.text.substr(0, 300);
        continue;
      }
      EXPECT_EQ(r.status, c.status) << r.text.substr(0, 300);
      if (c.status == 501 || c.status == 405) {
        EXPECT_NE(r.header(c.http ? "Allow" : "Public"), "") << r.text.substr(0, 300);
      }
      RtspReply next = p.reply();
      EXPECT_EQ(next.status, 200) << next.text.substr(0, 300);
      EXPECT_EQ(next.header("CSeq"), "88");
    }
  }
  expect_unharmed();
}

// RTSP/2.0 is the library's to speak (it answers OPTIONS and DESCRIBE).
TEST_F(RequestFaults, RtspTwoIsAnswered) {
  ASSERT_NO_FATAL_FAILURE(start());
  Peer p(srv_->port());
  p.send_all("OPTIONS " + srv_->url("/a") + " RTSP/2.0\r\nCSeq: 3\r\n\r\n" + options(88));
  RtspReply r = p.reply();
  EXPECT_TRUE(r.status == 200 || r.status == 505) << r.text.substr(0, 300);
  EXPECT_EQ(p.reply().status, 200);
}

// Open: on a later request, an unreadable version or an HTTP verb makes
// gst-rtsp-server 1.22 close the connection with no answer (its parser
// fails before any hook; the first request is checked by our front door).
TEST_F(RequestFaults, DISABLED_BadVersionOnALaterRequestIsAnswered) {
  ASSERT_NO_FATAL_FAILURE(start());
  for (const std::string& req : std::vector<std::string>{std::string("OPTIONS * RTSP/9.9\r\nCSeq: 3\r\n\r\n"), std::string("PUT /a HTTP/1.0\r\n\r\n")}) {
    Peer p(srv_->port());
    p.send_all(options(1));
    ASSERT_EQ(p.reply().status, 200);
    p.send_all(req + options(88));
    RtspReply r = p.reply();
    EXPECT_TRUE(r.status == 505 || r.status == 405) << req;
    EXPECT_EQ(p.reply().status, 200) << req;
  }
}

// --- A11: pipelining and a byte-split request -------------------------------

TEST_F(RequestFaults, ThousandPipelinedOptionsAreAnsweredInOrder) {
  ASSERT_NO_FATAL_FAILURE(start());
  constexpr int kCount = 1000;
  for (bool after_first : {false, true}) {
    Peer c(srv_->port());
    int base = 1;
    if (after_first) {
      c.send_all(options(base++));
      ASSERT_EQ(c.reply().status, 200);
    }
    std::string all;
    for (int i = 0; i < kCount; ++i)
      all += options(base + i);
    c.send_in_background(all);
    int answered = 0;
    for (int i = 0; i < kCount; ++i) {
      RtspReply r = c.reply(20s);
      if (r.status != 200 || r.header("CSeq") != std::to_string(base + i)) {
        ADD_FAILURE() << "reply " << i << ": " << r.text.substr(0, 200);
        break;
      }
      answered++;
    }
    EXPECT_EQ(answered, kCount);
  }
  {  // One request, a byte every 50 ms (about 3 s, within the 10 s deadline).
    Peer c(srv_->port());
    std::string req = rtsp_request("DESCRIBE", srv_->url("/a"), 9, "");
    auto began = Clock::now();
    for (char ch : req) {
      ASSERT_TRUE(c.send_all(std::string(1, ch)));
      wait_until([] { return false; }, 50ms);
    }
    RtspReply r = c.reply();
    EXPECT_EQ(r.status, 200) << r.text.substr(0, 200);
    EXPECT_EQ(r.header("CSeq"), "9");
    std::printf("byte-split DESCRIBE (%zu bytes) took %.1f s\n", req.size(),
                std::chrono::duration<double>(Clock::now() - began).count());
  }
  expect_unharmed();
}

// --- B06: requests at the session's expiry ----------------------------------

// An RTCP receiver report from `ssrc` about the stream `media_ssrc` (one
// report block: nothing lost, `highest_seq` received) and an SDES with its
// CNAME: the compound packet a receiver sends every few seconds.
std::string receiver_report(uint32_t ssrc, uint32_t media_ssrc, uint32_t highest_seq) {
  auto be32 = [](uint32_t v) {
    return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  };
  std::string rr = std::string("\x81\xc9\x00\x07", 4) + be32(ssrc) + be32(media_ssrc) +
                   be32(0) + be32(highest_seq) + be32(0) + be32(0) + be32(0);
  std::string cname = "viewer@127.0.0.1";
  std::string items = std::string(1, '\x01') + char(cname.size()) + cname + '\0';
  items.resize((items.size() + 3) / 4 * 4, '\0');
  std::string sdes = std::string("\x81\xca\x00", 3) + char((4 + items.size()) / 4) + be32(ssrc) + items;
  return rr + sdes;
}

// A UDP viewer's port pair, as RTP clients take them (an even port and the
// next): the RTP packets sent to the first are counted, their SSRC and
// highest sequence number noted; receiver reports leave from the second.
class RtpSink {
 public:
  RtpSink() {
    if (!udp_pair("127.0.0.1", rtp_, rtcp_))
      return;
    port_ = local_port(rtp_.get());
    reader_ = std::thread([this, fd = g_socket_get_fd(rtp_.get())] {
      timeval tv{0, 50000};
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      unsigned char buf[2048];
      while (!stop_) {
        if (recv(fd, buf, sizeof buf, 0) >= 12) {
          packets_++;
          seq_ = uint32_t(buf[2] << 8 | buf[3]);
          ssrc_ = uint32_t(buf[8]) << 24 | uint32_t(buf[9]) << 16 | uint32_t(buf[10]) << 8 | buf[11];
          last_ = Clock::now().time_since_epoch().count();
        }
      }
    });
  }
  ~RtpSink() {
    stop_ = true;
    if (reader_.joinable())
      reader_.join();
  }
  uint16_t port() const { return port_; }
  unsigned packets() const { return packets_; }
  Clock::time_point last() const { return Clock::time_point(Clock::duration(last_.load())); }
  // A receiver report on what came so far, to the server's RTCP port,
  // from our RTCP port (or from `from`).
  bool send_report(uint16_t server_rtcp_port, GSocket* from = nullptr) const {
    return send_to_loopback(from ? from : rtcp_.get(), server_rtcp_port,
                            receiver_report(0x5eed0000u + port_, ssrc_, seq_));
  }

 private:
  Ref<GSocket> rtp_, rtcp_;
  uint16_t port_ = 0;
  std::thread reader_;
  std::atomic<bool> stop_{false};
  std::atomic<unsigned> packets_{0};
  std::atomic<uint32_t> ssrc_{0}, seq_{0};
  std::atomic<Clock::rep> last_{0};
};

// A UDP session played on `c`; its RTP goes to `sink`, the server's RTCP to
// the port after it. `transport`: the SETUP reply's Transport header.
std::string play_udp(Peer& c, const std::string& url, const RtpSink& sink, int& cseq,
                     std::string* session_header = nullptr, std::string* transport = nullptr) {
  c.send_all(rtsp_request("DESCRIBE", url, cseq++, ""));
  if (c.reply().status != 200)
    return {};
  c.send_all(rtsp_request("SETUP", url + "/stream=0", cseq++, "",
                          "Transport: RTP/AVP;unicast;client_port=" + std::to_string(sink.port()) +
                              "-" + std::to_string(sink.port() + 1) + "\r\n"));
  RtspReply s = c.reply();
  if (s.status != 200)
    return {};
  if (session_header)
    *session_header = s.header("Session");
  if (transport)
    *transport = s.header("Transport");
  std::string id = session_of(s);
  c.send_all(rtsp_request("PLAY", url, cseq++, id));
  return c.reply().status == 200 ? id : std::string();
}

TEST_F(RequestFaults, SessionExpiryIsAsAnnounced) {
  constexpr unsigned kTimeout = 2;
  ASSERT_NO_FATAL_FAILURE(start("", kTimeout));
  const std::string url = srv_->url("/a");
  {  // Announced, and by nothing: RTP stops within the timeout and a margin.
    RtpSink sink;
    Peer c(srv_->port());
    int cseq = 1;
    std::string header;
    std::string id = play_udp(c, url, sink, cseq, &header);
    ASSERT_FALSE(id.empty()) << srv_->log_tail();
    auto played = Clock::now();
    EXPECT_EQ(header, id + ";timeout=" + std::to_string(kTimeout));
    ASSERT_TRUE(wait_until([&] { return sink.packets() > 5; }, 5s));
    EXPECT_TRUE(wait_until([&] { return Clock::now() - sink.last() > 500ms; }, 10s));
    double ended = std::chrono::duration<double>(sink.last() - played).count();
    std::printf("silent session: RTP stopped %.2f s after PLAY (timeout %u s)\n", ended, kTimeout);
    // The timeout and the server's 1 s of grace, and a margin for the
    // pool's cleanup on a loaded machine.
    EXPECT_GE(ended, kTimeout - 0.3);
    EXPECT_LE(ended, kTimeout + 1 + 1.5);
    c.send_all(rtsp_request("GET_PARAMETER", url, cseq++, id));
    EXPECT_EQ(c.reply().status, 454);
  }
  {  // Kept alive by GET_PARAMETER alone, at 3/4 of the timeout, for 4 timeouts.
    RtpSink sink;
    Peer c(srv_->port());
    int cseq = 1;
    std::string id = play_udp(c, url, sink, cseq);
    ASSERT_FALSE(id.empty());
    auto end = Clock::now() + std::chrono::seconds(4 * kTimeout);
    while (Clock::now() < end) {
      wait_until([] { return false; }, std::chrono::milliseconds(kTimeout * 750));
      c.send_all(rtsp_request("GET_PARAMETER", url, cseq++, id));
      RtspReply r = c.reply();
      ASSERT_EQ(r.status, 200) << r.text;
      EXPECT_LT(Clock::now() - sink.last(), 500ms) << "RTP stopped while kept alive";
    }
    c.send_all(rtsp_request("TEARDOWN", url, cseq++, id));
    EXPECT_EQ(c.reply().status, 200);
  }
  // Requests around the expiry: 200 (still alive, and kept) or 454 (gone),
  // answered within a few seconds; never a hang or a crash.
  const int offsets_ms[] = {-200, -100, -50, 50, 100, 200};
  std::vector<std::thread> sweep;
  std::atomic<int> ok{0}, gone{0}, bad{0};
  for (int i = 0; i < 12; ++i) {
    sweep.emplace_back([&, i] {
      RtpSink sink;
      Peer c(srv_->port());
      int cseq = 1;
      std::string id = play_udp(c, url, sink, cseq);
      if (id.empty()) {
        bad++;
        return;
      }
      // Around the end of the timeout and around the end of its grace.
      int at_ms = kTimeout * 1000 + (i % 2 ? 1000 : 0) + offsets_ms[i % 6];
      std::this_thread::sleep_for(std::chrono::milliseconds(at_ms));
      c.send_all(rtsp_request(i < 6 ? "PLAY" : "GET_PARAMETER", url, cseq++, id));
      RtspReply r = c.reply(5s);
      (r.status == 200 ? ok : r.status == 454 ? gone : bad)++;
      if (r.status == 200) {  // then it lives on
        c.send_all(rtsp_request("TEARDOWN", url, cseq++, id));
        if (c.reply(5s).status != 200)
          bad++;
      }
    });
  }
  for (auto& t : sweep)
    t.join();
  std::printf("around the expiry: %d answered 200, %d 454, %d other\n", ok.load(), gone.load(),
              bad.load());
  EXPECT_EQ(bad, 0);
  expect_unharmed();
}

// --- B06: keep-alive by RTCP receiver reports alone --------------------------

// A viewer that never sends another request after PLAY but sends RTCP
// receiver reports, as players do, keeps its session: over UDP from its
// RTCP port to the server's (the port pair of the SETUP), over TCP on the
// odd interleaved channel. Checked for three times the timeout; then the
// UDP viewer falls silent and loses its session like any other. Reports
// from another port (another host's, say) keep nothing.
TEST_F(RequestFaults, ReceiverReportsAloneKeepASession) {
  constexpr unsigned kTimeout = 2;
  ASSERT_NO_FATAL_FAILURE(start("", kTimeout));
  const std::string url = srv_->url("/a");
  const auto kept_for = std::chrono::seconds(3 * kTimeout);
  // A UDP session kept by reports for `kept_for` (or until its RTP stops);
  // the seconds its RTP came after the PLAY.
  auto reported_session = [&](bool from_own_port) {
    RtpSink sink;
    Ref<GSocket> elsewhere = udp_socket("127.0.0.1");
    Peer c(srv_->port());
    int cseq = 1;
    std::string transport;
    std::string id = play_udp(c, url, sink, cseq, nullptr, &transport);
    const uint16_t server_rtcp = uint16_t(transport_value(transport, "server_port=", true));
    EXPECT_FALSE(id.empty()) << srv_->log_tail();
    EXPECT_NE(server_rtcp, 0) << transport;
    EXPECT_TRUE(wait_until([&] { return sink.packets() > 5; }, 5s));
    const auto played = Clock::now();
    unsigned reports = 0;
    while (Clock::now() - played < kept_for && Clock::now() - sink.last() < 1s) {
      reports += sink.send_report(server_rtcp, from_own_port ? nullptr : elsewhere.get());
      wait_until([] { return false; }, 500ms);
    }
    const double lasted = std::chrono::duration<double>(sink.last() - played).count();
    std::printf("UDP, reports from %s: %u sent, RTP for %.1f s (timeout %u s)\n",
                from_own_port ? "its RTCP port" : "another port", reports, lasted, kTimeout);
    if (from_own_port) {
      // Silent from here: the session ends as a silent one does.
      const auto silent = Clock::now();
      EXPECT_TRUE(wait_until([&] { return Clock::now() - sink.last() > 500ms; }, 10s));
      double ended = std::chrono::duration<double>(sink.last() - silent).count();
      std::printf("UDP: RTP stopped %.2f s after the last receiver report\n", ended);
      EXPECT_LE(ended, kTimeout + 1 + 1.5);
    }
    EXPECT_TRUE(wait_until([&] { return Clock::now() - sink.last() > 500ms; }, 10s));
    c.send_all(rtsp_request("GET_PARAMETER", url, cseq++, id));
    EXPECT_EQ(c.reply().status, 454);
    return lasted;
  };
  EXPECT_GE(reported_session(true), 3 * kTimeout - 0.5) << "RTP stopped while reports came\n"
                                                         << srv_->log_tail();
  // The timeout, the server's 1 s of grace and a margin.
  EXPECT_LE(reported_session(false), kTimeout + 1 + 1.5);
  {  // TCP: the reports on channel 1, RTP read from channel 0.
    RawRtsp c(srv_->port());
    ASSERT_EQ(c.request(rtsp_request("DESCRIBE", url, 1, "")).status, 200);
    RtspReply s = c.request(setup_play(url + "/stream=0", 2));
    ASSERT_EQ(s.status, 200) << s.text;
    const std::string id = session_of(s);
    ASSERT_EQ(c.request(rtsp_request("PLAY", url, 3, id)).status, 200);
    const auto played = Clock::now();
    auto last_rtp = played, last_report = played - 1s;
    uint32_t ssrc = 0, seq = 0;
    unsigned reports = 0, packets = 0;
    while (Clock::now() - played < kept_for && Clock::now() - last_rtp < 1s) {
      RawRtsp::Frame f = c.read_interleaved(100ms);
      if (f.channel == 0 && f.data.size() >= 12) {
        packets++;
        last_rtp = Clock::now();
        seq = uint32_t(uint8_t(f.data[2]) << 8 | uint8_t(f.data[3]));
        ssrc = uint32_t(uint8_t(f.data[8])) << 24 | uint32_t(uint8_t(f.data[9])) << 16 |
               uint32_t(uint8_t(f.data[10])) << 8 | uint8_t(f.data[11]);
      }
      if (Clock::now() - last_report >= 500ms && ssrc != 0) {
        reports += c.send(interleaved(1, receiver_report(0x5eed0001u, ssrc, seq)));
        last_report = Clock::now();
      }
    }
    std::printf("TCP: %u receiver reports, %u packets, RTP for %.1f s (timeout %u s)\n", reports,
                packets, std::chrono::duration<double>(last_rtp - played).count(), kTimeout);
    EXPECT_LT(Clock::now() - last_rtp, 1s) << "RTP stopped while receiver reports came\n"
                                           << srv_->log_tail();
    EXPECT_GE(Clock::now() - played, kept_for);
    EXPECT_EQ(c.request(rtsp_request("TEARDOWN", url, 4, id)).status, 200);
  }
  expect_unharmed();
}

// A publisher shows it is alive by its media: one that sends RTP and
// nothing else (no RTSP request, no RTCP), over TCP and over UDP, keeps its
// session for three times the timeout, and its viewer keeps getting the
// pictures.
TEST_F(RequestFaults, PublisherSendingMediaKeepsItsSession) {
  constexpr unsigned kTimeout = 2;
  ASSERT_NO_FATAL_FAILURE(start("[path /live/*]\npublish=true\n", kTimeout));
  for (bool udp : {false, true}) {
    const std::string path = udp ? "/live/udp" : "/live/tcp";
    RtpPublisher pub(*srv_, path, udp);
    ASSERT_TRUE(pub.ok()) << pub.announced().text << srv_->log_tail();
    auto frame = [&] {
      pub.send_frame();
      wait_until([] { return false; }, 40ms);
    };
    const size_t ended = count_occurrences(srv_->log(), "role=publisher duration_ms");
    for (int i = 0; i < 10; ++i)
      frame();
    PacketViewer viewer(srv_->port(), srv_->url(path));
    ASSERT_TRUE(viewer.ok()) << srv_->log_tail();
    const auto t0 = Clock::now();
    while (Clock::now() - t0 < std::chrono::seconds(3 * kTimeout))
      frame();
    const unsigned got = viewer.packets();
    for (int i = 0; i < 25; ++i)
      frame();
    std::printf("%s publisher: its viewer got %u packets in %u s, then %u more\n",
                udp ? "UDP" : "TCP", got, 3 * kTimeout, viewer.packets() - got);
    EXPECT_GT(viewer.packets(), got + 20) << path << ": the publisher's media stopped\n"
                                          << srv_->log_tail();
    EXPECT_EQ(count_occurrences(srv_->log(), "role=publisher duration_ms"), ended)
        << "the publisher's session ended\n" << srv_->log_tail();
    EXPECT_EQ(pub.teardown().status, 200) << path << ": the publisher's session was gone";
  }
  expect_unharmed();
}

// --- D03: a tunnel's cookie used from another address ---------------------

std::string tunnel_get(const std::string& cookie) {
  return "GET /a HTTP/1.0\r\nx-sessioncookie: " + cookie +
         "\r\nAccept: application/x-rtsp-tunnelled\r\n\r\n";
}
std::string tunnel_post(const std::string& cookie) {
  return "POST /a HTTP/1.0\r\nx-sessioncookie: " + cookie +
         "\r\nContent-Type: application/x-rtsp-tunnelled\r\nContent-Length: 32767\r\n\r\n";
}
std::string base64(const std::string& s) {
  gchar* b = g_base64_encode(reinterpret_cast<const guchar*>(s.data()), s.size());
  std::string out = b;
  g_free(b);
  return out;
}

// A tunnelled client by hand: GET from `get_from`, POST from `post_from`;
// true when an OPTIONS sent through the POST is answered on the GET.
bool tunnel_answers(uint16_t port, const std::string& cookie, const char* get_from,
                    const char* post_from, Peer** get_out = nullptr) {
  auto get = std::make_unique<Peer>(port, get_from);
  get->send_all(tunnel_get(cookie));
  if (get->reply(5s).status != 200)
    return false;
  Peer post(port, post_from);
  post.send_all(tunnel_post(cookie) + base64(options(5)));
  std::string got;
  RtspReply r = get->reply(3s);
  if (get_out)
    *get_out = get.release();
  return r.status == 200 && r.header("CSeq") == "5";
}

TEST_F(RequestFaults, TunnelCookieFromAnotherAddressNeverMerges) {
  ASSERT_NO_FATAL_FAILURE(start());
  const uint16_t port = srv_->port();
  // The same cookie from one host works (the control case).
  EXPECT_TRUE(tunnel_answers(port, "samehost0123456789", "127.0.0.1", "127.0.0.1"));
  // A POST from another address with the victim's cookie, after the
  // victim's GET: it must not reach the victim's tunnel.
  EXPECT_FALSE(tunnel_answers(port, "victim00000000001", "127.0.0.1", "127.0.0.2"));
  {  // The attacker first: GET (squatting) or POST from 127.0.0.2, then the
     // victim's GET and POST from 127.0.0.1 still make a tunnel of their own.
    Peer squat_get(port, "127.0.0.2");
    squat_get.send_all(tunnel_get("victim00000000002"));
    squat_get.reply(5s);
    EXPECT_TRUE(tunnel_answers(port, "victim00000000002", "127.0.0.1", "127.0.0.1"))
        << "a GET from another address took the victim's cookie";
    EXPECT_EQ(squat_get.reply(1s).status, 0) << "the squatter got the victim's answer";
    Peer squat_post(port, "127.0.0.2");
    squat_post.send_all(tunnel_post("victim00000000003") + base64(options(66)));
    EXPECT_TRUE(tunnel_answers(port, "victim00000000003", "127.0.0.1", "127.0.0.1"))
        << "a POST from another address took the victim's cookie";
  }
  {  // Cookies that differ only after the library's 23rd character are two
     // tunnels (it keeps 23 characters of a cookie).
    Peer get(port);
    get.send_all(tunnel_get(std::string(23, 'c') + "A"));
    ASSERT_EQ(get.reply(5s).status, 200);
    Peer post(port);
    post.send_all(tunnel_post(std::string(23, 'c') + "B") + base64(options(67)));
    EXPECT_EQ(get.reply(2s).status, 0) << "another cookie's POST reached this tunnel";
  }
  // A real tunnelled viewer plays while an attacker posts junk cookies.
  {
    std::string url = srv_->url("/a");
    url.replace(0, 4, "rtsph");
    Viewer v(url, "tcp");
    for (int i = 0; i < 20; ++i) {
      Peer post(port, "127.0.0.2");
      post.send_all(tunnel_post("guess" + std::to_string(i)) + base64(options(1)));
    }
    EXPECT_TRUE(wait_until([&] { return v.video_frames() >= 10; }, 20s)) << v.error()
                                                                          << srv_->log_tail();
  }
  expect_unharmed();
}

// --- D04: GETs that never get their POST -----------------------------------

TEST_F(RequestFaults, GetsWithoutPostAreCountedAndClosed) {
  // Caps low enough to reach, a short idle deadline.
  ASSERT_NO_FATAL_FAILURE(start("max-connections=300\nrequest-timeout=3\n"));
  const uint16_t port = srv_->port();
  constexpr int kGets = 500;
  std::vector<std::unique_ptr<Peer>> gets;
  int answered = 0, refused = 0, silent = 0;
  auto began = Clock::now();
  for (int i = 0; i < kGets; ++i) {
    gets.push_back(std::make_unique<Peer>(port));
    gets.back()->send_all(tunnel_get("orphan" + std::to_string(i)));
  }
  for (auto& g : gets) {
    RtspReply r = g->reply(5s);
    (r.status == 200 ? answered : r.status == 503 ? refused : silent)++;
  }
  std::printf("%d GETs: %d answered, %d refused (503), %d without answer\n", kGets, answered,
              refused, silent);
  EXPECT_LE(answered, 300) << "GETs not counted against max-connections";
  EXPECT_GT(refused, 0);
  // Closed at the idle deadline (request-timeout), well before the
  // library's own 60 s.
  int closed = 0;
  auto deadline = began + 9s;
  for (auto& g : gets) {
    auto left = std::max<Clock::duration>(deadline - Clock::now(), 100ms);
    closed += g->closed_within(std::chrono::duration_cast<std::chrono::milliseconds>(left)) ? 1 : 0;
  }
  double took = std::chrono::duration<double>(Clock::now() - began).count();
  std::printf("%d of %d closed by the server, %.1f s after the first GET\n", closed, kGets, took);
  EXPECT_EQ(closed, kGets);
  gets.clear();
  expect_unharmed();
}

}  // namespace
}  // namespace gms::test
