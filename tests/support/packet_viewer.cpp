#include "packet_viewer.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <vector>
#include <fstream>

#include "digest.h"
#include "process.h"

namespace gms::test {

PacketViewer::PacketViewer(uint16_t port, const std::string& url, const ViewerLogin& login)
    : conn_(port, login.tls_ca), login_(login) {
  ok_ = ask("DESCRIBE", url, 1, "Accept: application/sdp\r\n").status == 200;
  RtspReply s =
      ask("SETUP", url + "/stream=0", 3, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n");
  std::string id = s.header("Session");
  session_ = id.substr(0, id.find(';'));
  ok_ = ok_ && s.status == 200 && ask("PLAY", url, 5).status == 200;
  if (ok_)
    reader_ = std::thread([this] { read_loop(); });
}

RtspReply PacketViewer::ask(const std::string& method, const std::string& url, int cseq,
                            const std::string& headers) {
  auto authorization = [&] {
    return nonce_.empty() ? std::string()
                          : digest_header(login_.user, login_.password, method, url, nonce_);
  };
  RtspReply r = conn_.request(rtsp_request(method, url, cseq, session_, headers + authorization()));
  if (r.status != 401 || login_.user.empty() || !nonce_.empty())
    return r;
  nonce_ = challenge_param(r.header("WWW-Authenticate"), "nonce");
  return conn_.request(rtsp_request(method, url, cseq + 1, session_, headers + authorization()));
}

PacketViewer::~PacketViewer() {
  stop_ = true;
  if (reader_.joinable())
    reader_.join();
}

bool PacketViewer::flowing(unsigned n, std::chrono::milliseconds timeout) const {
  unsigned before = packets_;
  return wait_until([&] { return packets_ >= before + n; }, timeout) && gaps_ == 0;
}

std::string PacketViewer::state() const {
  return "reference viewer: " + std::to_string(packets_) + " packets, " + std::to_string(gaps_) +
         " gaps, " + std::to_string(repeats_) + " repeats" + (closed_ ? ", closed" : "");
}

void PacketViewer::read_loop() {
  int last = -1;
  while (!stop_) {
    RawRtsp::Frame f = conn_.read_interleaved(std::chrono::milliseconds(200));
    if (f.channel < 0) {
      if (!conn_.connected())
        break;
      continue;
    }
    if (f.channel != 0 || f.data.size() < 12)
      continue;
    int seq = (uint8_t(f.data[2]) << 8) | uint8_t(f.data[3]);
    // A forward jump is a loss; a packet at or before the last one a repeat
    // (a joiner's cached key frame, then the same packets live).
    int ahead = last < 0 ? 1 : (seq - last) & 0xffff;
    if (ahead > 1 && ahead < 0x8000) {
      gaps_++;
      std::fprintf(stderr, "lost %d packets after %d\n", ahead - 1, last);
    }
    if (ahead == 0 || ahead >= 0x8000) {
      repeats_++;
      continue;
    }
    last = seq;
    packets_++;
  }
  closed_ = !stop_;
}

Holdings holdings_of(GPid pid) {
  Holdings h;
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  if (DIR* d = opendir(dir.c_str())) {
    h.fds = 0;
    while (dirent* e = readdir(d))
      h.fds += e->d_name[0] != '.';
    closedir(d);
  }
  std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  if (DIR* d = opendir(tasks.c_str())) {
    h.threads = h.pool_threads = 0;
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.')
        continue;
      std::ifstream comm(tasks + "/" + e->d_name + "/comm");
      std::string name;
      std::getline(comm, name);
      bool pool = name.rfind("pool-", 0) == 0;
      h.pool_threads += pool;
      h.threads += !pool && name != "gms-gop-replay" && name != "gms-trim" &&
                   name != "gms-dropped" && name != "GstSystemClock";
    }
    closedir(d);
  }
  return h;
}

bool wait_holdings_back(GPid pid, const Holdings& baseline, std::chrono::milliseconds timeout,
                        Holdings& now) {
  return wait_until(
      [&] {
        now = holdings_of(pid);
        return now.fds <= baseline.fds && now.threads <= baseline.threads &&
               now.pool_threads <= baseline.pool_threads + 2;
      },
      timeout);
}

testing::AssertionResult holdings_back(GPid pid, const Holdings& baseline,
                                       const std::string& names_then,
                                       std::chrono::milliseconds timeout) {
  Holdings now;
  const auto since = std::chrono::steady_clock::now();
  const bool back = wait_holdings_back(pid, baseline, timeout, now);
  std::printf("fds %d -> %d, threads %d -> %d, idle pool threads %d -> %d (after %.1f s)\n",
              baseline.fds, now.fds, baseline.threads, now.threads, baseline.pool_threads,
              now.pool_threads,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count());
  if (back)
    return testing::AssertionSuccess();
  return testing::AssertionFailure() << "fds " << baseline.fds << " -> " << now.fds
                                     << ", threads " << baseline.threads << " -> " << now.threads
                                     << "\nthreads then: " << names_then
                                     << "\nthreads now: " << thread_names(pid);
}

std::string thread_names(GPid pid) {
  std::vector<std::string> names;
  std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  if (DIR* d = opendir(tasks.c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.')
        continue;
      std::ifstream comm(tasks + "/" + e->d_name + "/comm");
      std::string name;
      std::getline(comm, name);
      names.push_back(name);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  std::string out;
  for (const auto& n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string fd_targets(GPid pid) {
  std::string dir = "/proc/" + std::to_string(pid) + "/fd", out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.')
        continue;
      char target[256] = {};
      ssize_t n = readlink((dir + "/" + e->d_name).c_str(), target, sizeof target - 1);
      out += std::string(out.empty() ? "" : ", ") + e->d_name + " " + (n > 0 ? target : "?");
    }
    closedir(d);
  }
  return out;
}

long rss_kib(GPid pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

}  // namespace gms::test
