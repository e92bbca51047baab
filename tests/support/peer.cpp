#include "peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace gms::test {

using Clock = std::chrono::steady_clock;

Peer::Peer(uint16_t port, const char* from) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, from, &local.sin_addr);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  timeval tv{5, 0};
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd_);
    fd_ = -1;
  }
}

Peer::~Peer() {
  if (sender_.joinable())
    sender_.join();
  if (fd_ >= 0)
    close(fd_);
}

bool Peer::send_all(const std::string& s) {
  size_t done = 0;
  while (fd_ >= 0 && done < s.size()) {
    ssize_t n = ::send(fd_, s.data() + done, s.size() - done, MSG_NOSIGNAL);
    if (n <= 0)
      return false;
    done += size_t(n);
  }
  return done == s.size();
}

void Peer::send_in_background(std::string s) {
  sender_ = std::thread([this, s = std::move(s)] { send_all(s); });
}

RtspReply Peer::reply(std::chrono::milliseconds timeout) {
  RtspReply r;
  auto end = Clock::now() + timeout;
  for (;;) {
    size_t head = buffer_.find("\r\n\r\n");
    if (head != std::string::npos) {
      RtspReply tmp;
      tmp.text = buffer_.substr(0, head + 4);
      size_t want = head + 4 + size_t(std::atoi(tmp.header("Content-Length").c_str()));
      if (buffer_.size() >= want) {
        r.text = buffer_.substr(0, want);
        buffer_.erase(0, want);
        size_t sp = r.text.find(' ');
        if (r.text.rfind("RTSP/", 0) == 0 || r.text.rfind("HTTP/", 0) == 0)
          r.status = std::atoi(r.text.c_str() + sp + 1);
        return r;
      }
    }
    if (!fill(end))
      return r;
  }
}

bool Peer::closed_within(std::chrono::milliseconds timeout) {
  auto end = Clock::now() + timeout;
  while (Clock::now() < end) {
    if (!fill(end))
      return eof_;
    buffer_.clear();
  }
  return false;
}

bool Peer::fill(Clock::time_point end) {
  if (fd_ < 0 || eof_)
    return false;
  while (Clock::now() < end) {
    timeval tv{0, 100000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[16384];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      buffer_.append(buf, size_t(n));
      return true;
    }
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      eof_ = true;
      return false;
    }
  }
  return false;
}

}  // namespace gms::test
