// A scripted RTSP back end that misbehaves on purpose, on 127.0.0.1, served
// by its own thread (the test thread blocks in requests meanwhile). Every
// request is counted per method; every reply and every stream of bytes it
// sends is bounded in size and time.
#pragma once

#include <gio/gio.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "context_thread.h"
#include "gms/ref.h"

namespace gms::test {

enum class Misbehaviour {
  kBareDigest,      // 401 with "WWW-Authenticate: Digest" and nothing else
  kEndlessHeaders,  // a reply whose header lines never end
  kLargeSdp,        // an SDP of `size` bytes (one H.264 track) at 10 KB/s, then PLAY and silence
  kPlayThenSilent,  // a normal session up to PLAY, then nothing: no packet, no reply
  kManyTracks,      // an SDP with `size` m= lines, then PLAY and silence
  // (silence: after its PLAY reply a connection gets no byte more)
  kRedirectToSelf,  // DESCRIBE answered 302 to the same URL
};

class FakeOrigin {
 public:
  explicit FakeOrigin(Misbehaviour mode, size_t size = 0);
  ~FakeOrigin();
  FakeOrigin(const FakeOrigin&) = delete;
  FakeOrigin& operator=(const FakeOrigin&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const;
  // Requests received so far with this method ("OPTIONS", "SETUP", ...).
  unsigned requests(const std::string& method) const;
  // The most SETUP requests any one connection sent.
  unsigned max_setups_per_connection() const;
  unsigned connections() const;
  // Bytes of endless headers sent so far.
  uint64_t bytes_streamed() const;

  struct Conn;  // one accepted connection (fake_origin.cpp)

 private:
  static gboolean on_incoming(GSocketService*, GSocketConnection* conn, GObject*,
                              gpointer self) noexcept;
  friend struct Conn;
  void handle(Conn& c, const std::string& head);
  std::string sdp() const;

  const Misbehaviour mode_;
  const size_t size_;
  uint16_t port_ = 0;
  Ref<GSocketService> service_;

  mutable std::mutex lock_;  // protects the counters
  std::map<std::string, unsigned> requests_;
  unsigned connections_ = 0;
  unsigned max_setups_ = 0;
  uint64_t streamed_ = 0;

  std::vector<std::unique_ptr<Conn>> conns_;  // the service's thread only
  ContextThread thread_;  // last: stopped before the members it uses go
};

}  // namespace gms::test
