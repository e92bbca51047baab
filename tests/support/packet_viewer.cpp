#include "packet_viewer.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <vector>
#include <fstream>

#include "process.h"

namespace gms::test {

PacketViewer::PacketViewer(uint16_t port, const std::string& url) : conn_(port) {
  ok_ = conn_.request(rtsp_request("DESCRIBE", url, 1, "", "Accept: application/sdp\r\n")).status == 200;
  RtspReply s = conn_.request(rtsp_request("SETUP", url + "/stream=0", 2, "",
                                           "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"));
  std::string id = s.header("Session");
  session_ = id.substr(0, id.find(';'));
  ok_ = ok_ && s.status == 200 && conn_.request(rtsp_request("PLAY", url, 3, session_)).status == 200;
  if (ok_)
    reader_ = std::thread([this] { read_loop(); });
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
      h.threads += !pool && name != "gms-gop-replay";
    }
    closedir(d);
  }
  return h;
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
