#include "stuck_viewer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "publish_raw.h"

namespace gms::test {

StuckTcpViewer::StuckTcpViewer(uint16_t port, const std::string& url) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int small = 4096;
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  timeval tv{10, 0};  // a reply that never comes
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    error_ = "connect failed";
    return;
  }
  std::string r = ask(describe(url, 1));
  if (r.find(" 200 ") == std::string::npos) {
    error_ = "DESCRIBE: " + r;
    return;
  }
  r = ask(setup_play(url + "/stream=0", 2));
  auto at = r.find("Session: ");
  if (r.find(" 200 ") == std::string::npos || at == std::string::npos) {
    error_ = "SETUP: " + r;
    return;
  }
  std::string session = r.substr(at + 9, r.find_first_of(";\r", at + 9) - at - 9);
  std::string play = "PLAY " + url + " RTSP/1.0\r\nCSeq: 3\r\nSession: " + session + "\r\n\r\n";
  ok_ = send(fd_, play.data(), play.size(), MSG_NOSIGNAL) == ssize_t(play.size());
  if (!ok_)
    error_ = "PLAY not sent";
}

StuckTcpViewer::~StuckTcpViewer() {
  {
    std::lock_guard<std::mutex> g(lock_);
    stop_ = true;
  }
  wake_.notify_all();
  if (reader_.joinable())
    reader_.join();
  if (fd_ >= 0)
    close(fd_);
}

void StuckTcpViewer::read_slowly(size_t bytes) {
  if (fd_ >= 0 && !reader_.joinable())
    reader_ = std::thread([this, bytes] { read_loop(bytes); });
}

// One read of at most `bytes` a second (never waiting for data), until
// stopped or the server closes.
void StuckTcpViewer::read_loop(size_t bytes) {
  std::string buf(bytes, '\0');
  auto next = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> g(lock_);
  while (!stop_) {
    next += std::chrono::seconds(1);
    if (wake_.wait_until(g, next, [this] { return stop_; }))
      return;
    ssize_t n = recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n > 0) {
      read_ += size_t(n);
    } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      closed_ = true;
      return;
    }
  }
}

size_t StuckTcpViewer::server_unsent(uint16_t server_port) const {
  sockaddr_in me{};
  socklen_t len = sizeof me;
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&me), &len) != 0)
    return 0;
  char local[32], remote[32];
  std::snprintf(local, sizeof local, "0100007F:%04X", unsigned(server_port));
  std::snprintf(remote, sizeof remote, "0100007F:%04X", unsigned(ntohs(me.sin_port)));
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  while (std::getline(tcp, line)) {
    std::istringstream f(line);
    std::string slot, l, r, state, queues;
    f >> slot >> l >> r >> state >> queues;
    if (l == local && r == remote)
      return std::strtoul(queues.substr(0, queues.find(':')).c_str(), nullptr, 16);
  }
  return 0;
}

std::string StuckTcpViewer::ask(const std::string& request) {
  if (send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size()))
    return {};
  std::string reply;
  char buf[4096];
  auto more = [&] {
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n > 0)
      reply.append(buf, size_t(n));
    return n > 0;
  };
  while (reply.find("\r\n\r\n") == std::string::npos)
    if (!more())
      return reply;
  auto cl = reply.find("Content-Length: ");
  if (cl != std::string::npos) {  // the SDP body
    size_t len = std::strtoul(reply.c_str() + cl + 16, nullptr, 10);
    while (reply.size() < reply.find("\r\n\r\n") + 4 + len)
      if (!more())
        break;
  }
  return reply;
}

}  // namespace gms::test
