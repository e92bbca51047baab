// Depayloader attacks from a publisher (ANNOUNCE, SETUP, RECORD over TCP,
// then crafted RTP): fragments without a start, fragments without data,
// aggregation packets whose unit sizes overrun the packet or are 0, and a
// frame that never ends (no marker bit, the same timestamp, tens of MB).
// The path is recorded, so every packet also goes through the recorder's
// depayloader and parser. The server must live, a viewer of another path
// must lose nothing, a viewer of the attacked path must keep receiving the
// publisher's packets, the recording must go on (what its depayloaders
// would refuse is dropped before them and counted), the endless frame must
// not grow the server's memory without bound (the recorder's cut of it is
// counted), and the publisher's path must be usable again afterwards.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "http_client.h"
#include "key_frame_nals.h"
#include "packet_viewer.h"
#include "pipelines.h"
#include "process.h"
#include "prom_text.h"
#include "publish_raw.h"
#include "rtsp_raw.h"
#include "sanitizer.h"

namespace gms::test {
namespace {

std::string h265_sdp() {
  return "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=test\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
         "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H265/90000\r\na=control:streamid=0\r\n";
}

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b)
    s += char(c);
  return s;
}

// A publisher of our own: RTP packets with consecutive sequence numbers,
// sent over the RTSP connection in batches.
class RawPublisher {
 public:
  RawPublisher(ServerProcess& srv, const std::string& path, const std::string& sdp)
      : srv_(srv), conn_(srv.port()), url_(srv.url(path)) {
    announce_ = conn_.request(announce(url_, sdp, 1));
    if (announce_.status != 200)
      return;
    RtspReply s = conn_.request(setup_record(url_ + "/streamid=0", 2));
    session_ = session_id(s.header("Session"));
    ok_ = s.status == 200 && conn_.request(record(url_, session_, 3)).status == 200;
  }
  bool ok() const { return ok_; }
  const RtspReply& announced() const { return announce_; }
  void add(const std::string& payload, bool marker, uint32_t ts) {
    batch_ += interleaved(0, rtp_packet(96, seq_++, ts, 0x1234abcd, payload, marker));
  }
  // Sends what was added; false once the server closed or stopped reading.
  bool flush() {
    bool sent = conn_.send(batch_);
    batch_.clear();
    return sent;
  }
  uint32_t now_ts() const { return uint32_t(g_get_monotonic_time() * 9 / 100); }  // 90 kHz

 private:
  ServerProcess& srv_;
  RawRtsp conn_;
  std::string url_, session_;
  RtspReply announce_;
  bool ok_ = false;
  uint16_t seq_ = 1000;
  std::string batch_;
};

// Named payloads a publisher sends.
using Attacks = std::vector<std::pair<const char*, std::string>>;

// Peak VmRSS of a process while it runs, sampled every 50 ms.
class RssSampler {
 public:
  explicit RssSampler(GPid pid) : pid_(pid), thread_([this] { run(); }) {}
  ~RssSampler() {
    stop_ = true;
    thread_.join();
  }
  long peak_kib() const { return peak_; }

 private:
  void run() {
    while (!stop_) {
      peak_ = std::max(peak_.load(), rss_kib(pid_));
      g_usleep(50000);
    }
  }
  GPid pid_;
  std::atomic<bool> stop_{false};
  std::atomic<long> peak_{0};
  std::thread thread_;
};

class DepayFaults : public testing::Test {
 protected:
  void SetUp() override {
    root_ = write_temp_file("x", "");
    root_ = root_.substr(0, root_.rfind('/'));
    srv_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{write_temp_file(
            "depay.conf", "[server]\nverbose=1\nsession-timeout=5\nrecord-dir=" + root_ +
                              "\n[path /ref]\nlaunch=" + kMjpeg +
                              "\nrecord=false\n[path /live/*]\npublish=true\n")},
        true, 0, std::vector<std::string>{}, true);
    ASSERT_TRUE(srv_->ready()) << srv_->log_tail();
    ref_ = std::make_unique<PacketViewer>(srv_->port(), srv_->url("/ref"));
    ASSERT_TRUE(ref_->ok() && ref_->flowing()) << ref_->state() << "\n" << srv_->log_tail();
    baseline_ = holdings_of(srv_->pid());
    baseline_names_ = thread_names(srv_->pid());
    baseline_fds_ = fd_targets(srv_->pid());
  }
  void TearDown() override {
    ref_.reset();
    if (srv_) {
      EXPECT_EQ(srv_->stop(), 0) << srv_->log_tail();
    }
  }

  // A publisher on `path` whose recorder runs: key frames first (at 15
  // frames/s) until the recording starts.
  std::unique_ptr<RawPublisher> publisher(const std::string& path, const std::string& sdp,
                                          bool h265) {
    key_ = key_frame_nals(h265);
    if (key_.size() < 3)
      return nullptr;
    auto pub = std::make_unique<RawPublisher>(*srv_, path, sdp);
    if (!pub->ok())
      return nullptr;
    bool recording = wait_until(
        [&] {
          send_key_frame(*pub);
          g_usleep(66000);
          return srv_->log_contains("recording " + path + " into");
        },
        20s);
    return recording ? std::move(pub) : nullptr;
  }

  void send_key_frame(RawPublisher& pub) {
    uint32_t ts = pub.now_ts();
    for (size_t i = 0; i < key_.size(); ++i)
      pub.add(key_[i], i + 1 == key_.size(), ts);
    pub.flush();
  }

  // Key frames at 15 a second until a viewer of the publisher's own path
  // has `n` more packets (within 10 s).
  bool attacked_path_plays(RawPublisher& pub, const PacketViewer& v, unsigned n = 30) {
    const unsigned before = v.packets();
    return wait_until(
        [&] {
          send_key_frame(pub);
          g_usleep(66000);
          return v.packets() >= before + n;
        },
        10s);
  }

  // A recording counter of /metrics for `path` (NaN when absent).
  double recording_count(const std::string& family, const std::string& path) {
    return parse_prom_text(http_get(srv_->http_url("/metrics")).body).value(family, {{"path", path}});
  }

  void attack(const std::string& path, const std::string& sdp, bool h265, const std::string& slice,
              const Attacks& attacks, unsigned refused);

  // The server lives, the reference viewer lost nothing, and a later
  // publisher of the same path is taken once this one has gone.
  void expect_unharmed(const std::string& path, const std::string& sdp) {
    ASSERT_TRUE(srv_->alive()) << srv_->log_tail();
    EXPECT_TRUE(ref_->flowing()) << ref_->state() << "\n" << srv_->log_tail();
    EXPECT_FALSE(srv_->log_contains("CRITICAL")) << srv_->log_tail();
    bool again = wait_until(
        [&] {
          RawRtsp raw(srv_->port());
          if (raw.request(announce(srv_->url(path), sdp, 1)).status == 200)
            return true;
          g_usleep(200000);
          return false;
        },
        15s);
    EXPECT_TRUE(again) << path << " not free again\n" << srv_->log_tail();
    // Everything the publisher and its recording held is given back within
    // the session timeout and 5 s.
    EXPECT_TRUE(holdings_back(srv_->pid(), baseline_, baseline_names_, 30s));
  }

  std::string root_;
  std::unique_ptr<ServerProcess> srv_;
  std::unique_ptr<PacketViewer> ref_;
  std::vector<std::string> key_;  // the NAL units of the publisher's key frame
  Holdings baseline_;
  std::string baseline_names_, baseline_fds_;
};

// Malformed fragmentation and aggregation units, each repeated 20 times
// with a valid slice after each, from a recorded publisher of `path`, while
// a viewer of that path watches. `refused`: how many of `attacks` the
// recorder's depayloader would refuse (they are dropped before it).
void DepayFaults::attack(const std::string& path, const std::string& sdp, bool h265,
                         const std::string& slice, const Attacks& attacks, unsigned refused) {
  auto pub = publisher(path, sdp, h265);
  ASSERT_TRUE(pub) << srv_->log_tail();
  auto owned = std::make_unique<PacketViewer>(srv_->port(), srv_->url(path));
  PacketViewer& viewer = *owned;
  ASSERT_TRUE(viewer.ok()) << srv_->log_tail();
  ASSERT_TRUE(attacked_path_plays(*pub, viewer)) << viewer.state() << "\n" << srv_->log_tail();
  const double refused_before = recording_count("gms_recording_refused_packets_total", path);
  for (int round = 0; round < 20; ++round) {
    for (const auto& [name, payload] : attacks) {
      uint32_t ts = pub->now_ts();
      pub->add(payload, round % 2 == 0, ts);
      pub->add(slice, true, ts);
    }
    ASSERT_TRUE(pub->flush()) << "round " << round << "\n" << srv_->log_tail();
    g_usleep(20000);
  }
  ASSERT_TRUE(srv_->alive()) << srv_->log_tail();
  // The viewer of the attacked path got every packet as it came, and the
  // publisher's key frames after them.
  EXPECT_TRUE(attacked_path_plays(*pub, viewer)) << viewer.state() << "\n" << srv_->log_tail();
  EXPECT_EQ(viewer.gaps(), 0u) << viewer.state();
  EXPECT_FALSE(viewer.closed()) << viewer.state();
  // The recording went on, what its depayloader refuses counted.
  double counted = 0;
  EXPECT_TRUE(wait_until(
      [&] {
        counted = recording_count("gms_recording_refused_packets_total", path) - refused_before;
        return counted >= 20.0 * refused;
      },
      5s))
      << counted << " of " << 20 * refused;
  std::printf("%s: %.0f packets refused before the recorder's depayloader; the path's viewer: %s\n",
              path.c_str(), counted, viewer.state().c_str());
  EXPECT_EQ(counted, 20.0 * refused);
  EXPECT_FALSE(srv_->log_contains("recording " + path + " stopped")) << srv_->log_tail();
  EXPECT_EQ(recording_count("gms_recording", path), 1.0) << srv_->log_tail();
  owned.reset();
  pub.reset();
  expect_unharmed(path, sdp);
}

TEST_F(DepayFaults, BrokenH264FragmentsAndAggregates) {
  const std::string filler(1000, '\x55');
  const Attacks attacks = {
      {"FU-A without start", bytes({0x7c, 0x05}) + filler},
      {"FU-A end without start", bytes({0x7c, 0x45}) + filler},
      {"FU-A start, then end with no data", bytes({0x7c, 0x85}) + filler},
      {"FU-A end with no data", bytes({0x7c, 0x45})},
      {"FU-A header cut", bytes({0x7c})},
      {"STAP-A size over the packet", bytes({0x78, 0xff, 0xff, 0x65, 0x88, 0x84})},
      {"STAP-A size 1 past the end", bytes({0x78, 0x00, 0x04, 0x67, 0x42, 0x00})},
      {"STAP-A NAL size 0", bytes({0x78, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x41, 0x9a})},
      {"STAP-A cut in a size", bytes({0x78, 0x00})},
      {"STAP-B (not in packetization-mode 1)", bytes({0x79, 0x00, 0x00, 0x00, 0x02, 0x41, 0x9a})},
      {"FU-B", bytes({0x7d, 0x85, 0x00, 0x01}) + filler},
      {"empty payload", ""},
      // Refused by rtph264depay (7): MTAP16 and MTAP24, whole and cut
      // (header: type, DON base; units: size, DOND, a 16- or 24-bit
      // timestamp offset, the NAL unit), and undefined types.
      {"MTAP16", bytes({0x7a, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x41, 0x9a})},
      {"MTAP16 cut in its DON base", bytes({0x7a, 0x00})},
      {"MTAP16 size over the packet", bytes({0x7a, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x41})},
      {"MTAP16 cut in a timestamp offset", bytes({0x7a, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00})},
      {"MTAP24 size over the packet",
       bytes({0x7b, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x41})},
      {"MTAP24 cut in a timestamp offset", bytes({0x7b, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00})},
      {"MTAP24 header only", bytes({0x7b})},
      {"NAL type 0", bytes({0x00, 0x01, 0x02})},
      {"NAL type 31", bytes({0x1f, 0x01, 0x02})},
  };
  attack("/live/h264", h264_sdp(), false, bytes({0x41, 0x9a, 0x02, 0x03, 0x04, 0x05}),  // a P slice
         attacks, 9);
}

TEST_F(DepayFaults, BrokenH265FragmentsAndAggregates) {
  const std::string filler(1000, '\x55');
  const Attacks attacks = {
      {"FU without start", bytes({0x62, 0x01, 0x01}) + filler},
      {"FU end without start", bytes({0x62, 0x01, 0x41}) + filler},
      {"FU start, then end with no data", bytes({0x62, 0x01, 0x81}) + filler},
      {"FU end with no data", bytes({0x62, 0x01, 0x41})},
      {"FU header cut", bytes({0x62, 0x01})},
      {"AP size over the packet", bytes({0x60, 0x01, 0xff, 0xff, 0x02, 0x01, 0xd0})},
      {"AP NAL size 0", bytes({0x60, 0x01, 0x00, 0x00, 0x00, 0x03, 0x02, 0x01, 0xd0})},
      {"AP cut in a size", bytes({0x60, 0x01, 0x00})},
      {"one byte", bytes({0x02})},
      {"empty payload", ""},
      // Refused by rtph265depay (2): PACI, whole and cut.
      {"PACI", bytes({0x64, 0x01, 0x00, 0x00}) + filler},
      {"PACI cut in its header", bytes({0x64, 0x01, 0x00})},
  };
  attack("/live/h265", h265_sdp(), true, bytes({0x02, 0x01, 0xd0, 0x10, 0x20}),  // TRAIL_R
         attacks, 2);
}

// A frame that never ends: 48 MB (24 under ASan) of one picture (the same timestamp, no
// marker bit), as slices and then as one fragmentation unit that never
// gets its end. What the server holds for it must stay bounded: the
// recorder cuts an access unit at 8 MB and says so.
TEST_F(DepayFaults, EndlessFrameIsCapped) {
  auto pub = publisher("/live/endless", h264_sdp(), false);
  ASSERT_TRUE(pub) << srv_->log_tail();
  auto owned = std::make_unique<PacketViewer>(srv_->port(), srv_->url("/live/endless"));
  PacketViewer& viewer = *owned;
  ASSERT_TRUE(viewer.ok()) << srv_->log_tail();
  ASSERT_TRUE(attacked_path_plays(*pub, viewer)) << viewer.state() << "\n" << srv_->log_tail();
  g_usleep(500000);
  const long before = rss_kib(srv_->pid());
  RssSampler sampler(srv_->pid());
  const uint32_t ts = pub->now_ts();
  std::string body(1400, '\x5a');
  // Each half is past the 8 MB cap; a sanitized server reads more slowly.
  const size_t kTotal = (kAsan ? 24u : 48u) << 20;
  size_t sent = 0;
  bool fu_started = false;
  auto t0 = std::chrono::steady_clock::now();
  // First half: whole slices (type 1), second half: an FU-A that starts and
  // never ends.
  while (sent < kTotal && std::chrono::steady_clock::now() - t0 < 40s) {
    for (int i = 0; i < 64; ++i, sent += body.size()) {
      if (sent < kTotal / 2)
        pub->add(bytes({0x41, 0x9a}) + body, false, ts);
      else
        pub->add(bytes({0x7c, std::exchange(fu_started, true) ? 0x01 : 0x81}) + body, false, ts);
    }
    ASSERT_TRUE(pub->flush()) << sent << " bytes sent\n" << srv_->log_tail();
  }
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Let the server's queues drain before the last sample.
  g_usleep(1000000);
  const long peak = sampler.peak_kib();
  std::printf("endless frame: %zu MB sent in %.1f s; server RSS %ld KiB before, peak %ld KiB "
              "(+%ld KiB)%s\n",
              sent >> 20, took, before, peak, peak - before, kAsan ? " (ASan: not asserted)" : "");
  EXPECT_GE(sent, kTotal) << "the server stopped reading";
  EXPECT_TRUE(srv_->log_contains("recording /live/endless: access unit over")) << srv_->log_tail();
  if (!kAsan) {
    EXPECT_LT(peak - before, 40 * 1024) << "the server's memory grew with the frame";
  }
  ASSERT_TRUE(srv_->alive()) << srv_->log_tail();
  // The cut is counted (the slices and the FU are one frame: one
  // timestamp, no marker), and the path's viewer, which got the frame as
  // far as the relay kept up, plays the key frames after it.
  double cut = 0;
  EXPECT_TRUE(wait_until(
      [&] { return (cut = recording_count("gms_recording_oversized_frames_total", "/live/endless")) >= 1; },
      5s))
      << cut;
  EXPECT_TRUE(attacked_path_plays(*pub, viewer)) << viewer.state() << "\n" << srv_->log_tail();
  EXPECT_FALSE(viewer.closed()) << viewer.state();
  std::printf("endless frame: %.0f cut by the recorder; the path's viewer: %s\n", cut,
              viewer.state().c_str());
  owned.reset();
  pub.reset();
  expect_unharmed("/live/endless", h264_sdp());
}

}  // namespace
}  // namespace gms::test
