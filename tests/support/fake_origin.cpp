#include "fake_origin.h"

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <vector>

namespace gms::test {
namespace {

// Endless headers: sent in chunks, each write waiting for the last, and
// stopped at these bounds whatever the peer does.
constexpr uint64_t kMaxStreamedBytes = 256u << 20;
constexpr gint64 kMaxStreamUs = 60 * G_USEC_PER_SEC;
constexpr size_t kChunk = 16 << 10;
// A large SDP comes slowly, as over a poor link: the body is still arriving
// when the proxy gives the session up (64 KB take 6.4 s).
constexpr size_t kTrickleBytes = 1024;
constexpr guint kTrickleMs = 100;

std::string header_value(const std::string& head, const std::string& name) {
  std::string lower = head, key = "\r\n" + name + ":";
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  std::transform(key.begin(), key.end(), key.begin(), ::tolower);
  auto pos = lower.find(key);
  if (pos == std::string::npos)
    return {};
  pos += key.size();
  auto end = head.find("\r\n", pos);
  std::string v = head.substr(pos, end - pos);
  v.erase(0, v.find_first_not_of(' '));
  return v;
}

std::string filler_chunk() {
  std::string line = "X-Filler: " + std::string(188, 'f') + "\r\n";
  std::string chunk;
  while (chunk.size() + line.size() <= kChunk)
    chunk += line;
  return chunk;
}

}  // namespace

struct FakeOrigin::Conn {
  FakeOrigin* origin = nullptr;
  Ref<GSocketConnection> conn;
  std::string in;
  char buf[16384];
  unsigned setups = 0;
  bool played = false;  // after PLAY: no more replies at all
  bool closed = false;
  std::deque<std::string> out;
  bool writing = false;
  bool streaming = false;
  gint64 stream_started_us = 0;
  uint64_t streamed = 0;
  std::string trickle;  // bytes still to send slowly
  GSource* trickle_timer = nullptr;

  ~Conn() {
    if (trickle_timer) {
      g_source_destroy(trickle_timer);
      g_source_unref(trickle_timer);
    }
  }

  void send_slowly(std::string bytes) {
    trickle += bytes;
    if (trickle_timer)
      return;
    trickle_timer = g_timeout_source_new(kTrickleMs);
    g_source_set_callback(trickle_timer, on_trickle, this, nullptr);
    g_source_attach(trickle_timer, g_main_context_get_thread_default());
  }

  static gboolean on_trickle(gpointer data) noexcept {
    auto* c = static_cast<Conn*>(data);
    if (c->closed || c->trickle.empty()) {
      g_source_unref(c->trickle_timer);
      c->trickle_timer = nullptr;
      return G_SOURCE_REMOVE;
    }
    size_t n = std::min(kTrickleBytes, c->trickle.size());
    c->send(c->trickle.substr(0, n));
    c->trickle.erase(0, n);
    return G_SOURCE_CONTINUE;
  }

  void read_more() {
    g_input_stream_read_async(g_io_stream_get_input_stream(G_IO_STREAM(conn.get())), buf,
                              sizeof buf, G_PRIORITY_DEFAULT, nullptr, on_read, this);
  }

  static void on_read(GObject* stream, GAsyncResult* res, gpointer data) noexcept {
    auto* c = static_cast<Conn*>(data);
    gssize n = g_input_stream_read_finish(G_INPUT_STREAM(stream), res, nullptr);
    if (n <= 0) {
      c->closed = true;
      return;
    }
    c->in.append(c->buf, static_cast<size_t>(n));
    for (;;) {
      auto end = c->in.find("\r\n\r\n");
      if (end == std::string::npos)
        break;
      std::string head = c->in.substr(0, end + 4);
      size_t body = static_cast<size_t>(std::atoi(header_value(head, "Content-Length").c_str()));
      if (c->in.size() < head.size() + body)
        break;
      c->in.erase(0, head.size() + body);
      c->origin->handle(*c, head);
    }
    c->read_more();
  }

  void send(std::string bytes) {
    out.push_back(std::move(bytes));
    if (!writing)
      write_next();
  }

  void write_next() {
    if (closed || out.empty()) {
      writing = false;
      return;
    }
    writing = true;
    g_output_stream_write_all_async(g_io_stream_get_output_stream(G_IO_STREAM(conn.get())),
                                    out.front().data(), out.front().size(), G_PRIORITY_DEFAULT,
                                    nullptr, on_written, this);
  }

  static void on_written(GObject* stream, GAsyncResult* res, gpointer data) noexcept {
    auto* c = static_cast<Conn*>(data);
    if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(stream), res, nullptr, nullptr)) {
      c->closed = true;
      c->writing = false;
      return;
    }
    c->out.pop_front();
    if (c->out.empty() && c->streaming) {
      bool more = c->streamed < kMaxStreamedBytes &&
                  g_get_monotonic_time() - c->stream_started_us < kMaxStreamUs;
      if (more) {
        static const std::string chunk = filler_chunk();
        c->streamed += chunk.size();
        {
          std::lock_guard<std::mutex> g(c->origin->lock_);
          c->origin->streamed_ += chunk.size();
        }
        c->out.push_back(chunk);
      }
    }
    c->write_next();
  }
};

FakeOrigin::FakeOrigin(Misbehaviour mode, size_t size)
    : mode_(mode), size_(size), thread_([this] {
        service_ = Ref<GSocketService>::adopt(g_socket_service_new());
        auto addr = Ref<GInetAddress>::adopt(g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4));
        auto sa = Ref<GSocketAddress>::adopt(g_inet_socket_address_new(addr.get(), 0));
        GSocketAddress* bound = nullptr;
        if (g_socket_listener_add_address(G_SOCKET_LISTENER(service_.get()), sa.get(),
                                          G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr,
                                          &bound, nullptr)) {
          port_ = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
          g_object_unref(bound);
        }
        g_signal_connect(service_.get(), "incoming", G_CALLBACK(on_incoming), this);
        g_socket_service_start(service_.get());
      }) {}

FakeOrigin::~FakeOrigin() {
  thread_.stop();
  g_socket_service_stop(service_.get());
  g_socket_listener_close(G_SOCKET_LISTENER(service_.get()));
  // Closed here: their pending reads and writes (never to complete now) hold
  // references to them.
  for (auto& c : conns_)
    g_io_stream_close(G_IO_STREAM(c->conn.get()), nullptr, nullptr);
}

std::string FakeOrigin::url() const { return "rtsp://127.0.0.1:" + std::to_string(port_) + "/bad"; }

unsigned FakeOrigin::requests(const std::string& method) const {
  std::lock_guard<std::mutex> g(lock_);
  auto it = requests_.find(method);
  return it == requests_.end() ? 0 : it->second;
}

unsigned FakeOrigin::max_setups_per_connection() const {
  std::lock_guard<std::mutex> g(lock_);
  return max_setups_;
}

unsigned FakeOrigin::connections() const {
  std::lock_guard<std::mutex> g(lock_);
  return connections_;
}

uint64_t FakeOrigin::bytes_streamed() const {
  std::lock_guard<std::mutex> g(lock_);
  return streamed_;
}

// The service's thread. Connections live as long as the origin (their
// asynchronous reads and writes point at them).
gboolean FakeOrigin::on_incoming(GSocketService*, GSocketConnection* conn, GObject*,
                                 gpointer self) noexcept {
  auto* o = static_cast<FakeOrigin*>(self);
  auto c = std::make_unique<Conn>();
  c->origin = o;
  c->conn = Ref<GSocketConnection>::borrow(conn);
  {
    std::lock_guard<std::mutex> g(o->lock_);
    o->connections_++;
  }
  Conn* raw = c.get();
  o->conns_.push_back(std::move(c));
  raw->read_more();
  return TRUE;
}

std::string FakeOrigin::sdp() const {
  std::string s = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=fake\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n";
  auto track = [](size_t i) {
    return "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track" +
           std::to_string(i) + "\r\n";
  };
  if (mode_ == Misbehaviour::kManyTracks) {
    for (size_t i = 0; i < size_; ++i)
      s += track(i);
    return s;
  }
  if (mode_ == Misbehaviour::kLargeSdp) {
    const std::string pad = "a=x-pad:" + std::string(990, 'p') + "\r\n";
    while (s.size() + pad.size() < size_)
      s += pad;
  }
  return s + track(0);
}

void FakeOrigin::handle(Conn& c, const std::string& head) {
  std::string method = head.substr(0, head.find(' '));
  std::string cseq = header_value(head, "CSeq");
  {
    std::lock_guard<std::mutex> g(lock_);
    requests_[method]++;
    if (method == "SETUP")
      max_setups_ = std::max(max_setups_, ++c.setups);
  }
  std::string ok = "RTSP/1.0 200 OK\r\nCSeq: " + cseq + "\r\n";
  if (c.played)
    return;  // silent: not even TEARDOWN or a keep-alive is answered
  if (mode_ == Misbehaviour::kBareDigest) {
    c.send("RTSP/1.0 401 Unauthorized\r\nCSeq: " + cseq + "\r\nWWW-Authenticate: Digest\r\n\r\n");
    return;
  }
  if (mode_ == Misbehaviour::kEndlessHeaders) {
    c.streaming = true;
    c.stream_started_us = g_get_monotonic_time();
    c.send(ok);
    return;
  }
  if (method == "OPTIONS") {
    c.send(ok + "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER\r\n\r\n");
  } else if (method == "DESCRIBE" && mode_ == Misbehaviour::kRedirectToSelf) {
    c.send("RTSP/1.0 302 Moved Temporarily\r\nCSeq: " + cseq + "\r\nLocation: " + url() +
           "\r\n\r\n");
  } else if (method == "DESCRIBE") {
    std::string body = sdp();
    c.send(ok + "Content-Base: " + url() + "/\r\nContent-Type: application/sdp\r\n" +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n");
    if (mode_ == Misbehaviour::kLargeSdp)
      c.send_slowly(body);
    else
      c.send(body);
  } else if (method == "SETUP") {
    std::string transport = header_value(head, "Transport");
    if (transport.find("client_port") != std::string::npos)
      transport += ";server_port=40000-40001";
    c.send(ok + "Session: 5a5a5a5a;timeout=60\r\nTransport: " + transport + "\r\n\r\n");
  } else {
    c.played = method == "PLAY";
    c.send(ok + "Session: 5a5a5a5a;timeout=60\r\n\r\n");
  }
}

}  // namespace gms::test
