// The benchmarks' load client: N RTSP viewers of one URL in this process,
// over UDP or TCP interleaved, read with one epoll loop. Each viewer counts
// its RTP packets and the sequence numbers it never got (loss and gaps).
#pragma once

#include <glib.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace gms::test {

// Resident memory of a process, KiB (0 if it is gone).
long rss_kb(GPid pid);

// What one viewer got: packets, and the sequence numbers it missed.
struct Seen {
  bool any = false;
  uint16_t first = 0;
  uint32_t ext_last = 0;  // extended sequence number of the newest packet
  uint64_t received = 0;
  uint64_t gaps = 0;  // forward jumps of more than one sequence number
  // The longest wait between two packets (a stall), from the first packet on.
  gint64 last_us = 0, max_wait_us = 0;
  // Counts nothing before the first packet that starts an H.264 key frame
  // (SPS, IDR, or a STAP-A/FU-A opening one); first_key_us: when it came.
  // Such a viewer also counts like a receiver with a jitterbuffer: packets
  // after the key frame that came before it (live packets overtaking a
  // replayed GOP) count, duplicates count once.
  bool need_key = false;
  gint64 first_key_us = 0;
  bool keyed = false;             // need_key was set: the counting below
  std::vector<uint16_t> early;    // sequence numbers before the key frame
  std::vector<bool> got;          // from the key frame on, by extended seq - first
  // When each missing sequence number after the key frame was first
  // overtaken by a newer packet (by extended seq - first), and the packets
  // that came more than kLateUs after that: a player's jitterbuffer (100 to
  // 200 ms) has given them up by then.
  std::vector<gint64> overtaken_us;
  uint64_t late = 0;
  static constexpr gint64 kLateUs = 200000;
  void add(uint16_t seq);
  // add() unless a key frame is still awaited and this payload starts none.
  void add_rtp(const uint8_t* rtp, size_t len);
  uint64_t expected() const { return any ? ext_last - first + 1 : 0; }
};

struct ViewerConn {
  int rtsp = -1;
  int udp = -1;
  std::string buf;
  std::string session;
  Seen seen;
};

// DESCRIBE, SETUP of the first track (control "stream=0"), PLAY with
// `Range: npt=0.000-` (what ffmpeg sends). False on any error (printed).
bool start_viewer(ViewerConn& v, uint16_t port, const std::string& url, bool tcp);
// The same in two halves: DESCRIBE and SETUP; then PLAY sent without
// waiting for its reply (which the drains skip over).
bool setup_viewer(ViewerConn& v, uint16_t port, const std::string& url, bool tcp);
bool send_play(ViewerConn& v, const std::string& url);
// Reads what is waiting on the viewer's socket and counts its RTP packets.
void drain_tcp(ViewerConn& v);
void drain_udp(ViewerConn& v);
// TEARDOWN with the session, waits for its 200 reply; then closes.
bool teardown_and_wait(ViewerConn& v, const std::string& url);
// TEARDOWN (best effort) and close.
void stop_viewer(ViewerConn& v, const std::string& url);

struct PhaseResult {
  unsigned started = 0;
  uint64_t lost = 0, expected = 0, gaps = 0;
  unsigned viewers_with_loss = 0;
  double cpu_per_viewer = 0;  // % of one core
  double cpu_total = 0;       // % of one core
  double client_cpu = 0;      // this load client, % of one core
  double pkt_rate = 0;        // packets/s per viewer (the stream's rate when keeping up)
  double min_rate = 0;        // of the slowest viewer
  unsigned churned = 0;       // viewers that joined and left meanwhile
  double kb_per_viewer = 0;   // server resident memory added per viewer
  long rss_before_kb = 0, rss_with_viewers_kb = 0;
};

// A server under test: where viewers go, and its process.
struct Target {
  uint16_t port;
  std::string url;
  GPid pid;
};

// When the counted seconds of a phase began and ended (g_get_monotonic_time).
struct PhaseWindow {
  std::atomic<gint64> start{0}, end{0};
};

// Starts n viewers, reads them 4 s, then counts for `seconds` (with other
// viewers joining and leaving meanwhile when `churn`), and stops them.
PhaseResult run_phase(const Target& t, unsigned n, bool tcp, int seconds, double idle_cpu_pct,
                      bool churn = true, PhaseWindow* window = nullptr);

}  // namespace gms::test
