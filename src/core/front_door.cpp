#include "core/front_door.h"

#include <gst-mediaserver/config.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cstring>
#include <optional>

#include "core/accept_pause.h"
#include "core/first_request_check.h"
#include "core/log.h"
#include "core/request_cseq.h"
#include "core/tls_client.h"
#include "core/tunnel_cookie.h"

namespace gms {

struct FrontDoor::Pending {
  FrontDoor* door;
  Ref<GSocket> socket;
  std::string peer;
  int peer_port = 0;
  std::string buffer;
  SourceHolder readable, deadline;
};

namespace {

void send_status(GSocket* s, const std::string& status_line, const std::string& request) {
  // Echo CSeq so that clients match the refusal to their request: the
  // number alone, never the client's bytes.
  std::optional<uint32_t> cseq = request_cseq(request);
  std::string reply = "RTSP/1.0 " + status_line + "\r\n" +
                      (cseq ? "CSeq: " + std::to_string(*cseq) + "\r\n" : "") +
                      "Server: gst-mediaserver\r\nContent-Length: 0\r\n\r\n";
  g_socket_send(s, reply.data(), reply.size(), nullptr, nullptr);
}

}  // namespace

FrontDoor::FrontDoor(GstRTSPServer* server, GMainContext* context, FrontDoorLimits limits,
                     std::shared_ptr<ClientPolicy> policy)
    : server_(Ref<GstRTSPServer>::borrow(server)),
      context_(Ref<GMainContext>::borrow(context)),
      limits_(limits),
      policy_(std::move(policy)) {}

FrontDoor::~FrontDoor() {
  accept_source_.reset();
  pending_.clear();
  if (listener_)
    g_socket_close(listener_.get(), nullptr);
}

void FrontDoor::listen(const std::string& address, uint16_t port, unsigned backlog,
                       const char* key) {
  auto fail = [&](const std::string& why) {
    throw ConfigError({{"server", 0, "server", key,
                        "cannot listen on " + address + ":" + std::to_string(port) + ": " + why}});
  };
  auto addr = Ref<GSocketAddress>::adopt(g_inet_socket_address_new_from_string(address.c_str(), port));
  if (!addr)
    fail("not an IP address");
  GErrorPtr err;
  listener_ = Ref<GSocket>::adopt(g_socket_new(g_socket_address_get_family(addr.get()),
                                               G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                               out(err)));
  if (!listener_)
    fail(err->message);
  g_socket_set_blocking(listener_.get(), FALSE);
  g_socket_set_listen_backlog(listener_.get(), static_cast<gint>(backlog));
  if (!g_socket_bind(listener_.get(), addr.get(), TRUE, out(err)) ||
      !g_socket_listen(listener_.get(), out(err)))
    fail(err->message);
  auto local = Ref<GSocketAddress>::adopt(g_socket_get_local_address(listener_.get(), nullptr));
  port_ = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local.get()));
  pause_ = std::make_unique<AcceptPause>(context_.get(), "port " + std::to_string(port_), [this] {
    if (listener_)
      watch_listener();
  });
  watch_listener();
}

void FrontDoor::watch_listener() {
  GSource* src = g_socket_create_source(listener_.get(), G_IO_IN, nullptr);
  g_source_set_callback(
      src,
      G_SOURCE_FUNC(+[](GSocket*, GIOCondition, gpointer self) noexcept -> gboolean {
        return static_cast<FrontDoor*>(self)->on_accept();
      }),
      this, nullptr);
  accept_source_ = SourceHolder(src);
  g_source_attach(src, context_.get());
}

void FrontDoor::stop_listening() {
  accept_source_.reset();
  if (pause_)
    pause_->cancel();
  if (listener_)
    g_socket_close(listener_.get(), nullptr);
  listener_.reset();
}

bool FrontDoor::on_accept() {
  for (int i = 0; i < 64; ++i) {  // a burst at a time; the source fires again
    GErrorPtr err;
    auto sock = Ref<GSocket>::adopt(g_socket_accept(listener_.get(), nullptr, out(err)));
    if (!sock) {
      if (pause_->failed(err.get())) {
        accept_source_.reset();  // watched again after the pause
        return G_SOURCE_REMOVE;
      }
      break;
    }
    pause_->accepted();
    auto remote = Ref<GSocketAddress>::adopt(g_socket_get_remote_address(sock.get(), nullptr));
    if (!remote)
      continue;
    GInetSocketAddress* inet = G_INET_SOCKET_ADDRESS(remote.get());
    GCharPtr ip(g_inet_address_to_string(g_inet_socket_address_get_address(inet)));
    auto p = std::make_unique<Pending>();
    p->door = this;
    p->socket = sock;
    p->peer = ip.get();
    p->peer_port = g_inet_socket_address_get_port(inet);
    g_socket_set_blocking(sock.get(), FALSE);
    // Interleaved RTP is many small writes: without TCP_NODELAY, Nagle and
    // the viewer's delayed ACKs hold packets back ~40 ms (gst-rtsp-server
    // never sets it).
    g_socket_set_option(sock.get(), IPPROTO_TCP, TCP_NODELAY, 1, nullptr);
    if (tls_) {
      hand_over_tls(sock, ip.get(), g_inet_socket_address_get_port(inet));
      continue;
    }

    GSource* rd = g_socket_create_source(sock.get(), GIOCondition(G_IO_IN | G_IO_HUP | G_IO_ERR), nullptr);
    g_source_set_callback(
        rd,
        G_SOURCE_FUNC(+[](GSocket*, GIOCondition, gpointer data) noexcept -> gboolean {
          auto* pend = static_cast<Pending*>(data);
          pend->door->on_readable(pend);
          return G_SOURCE_CONTINUE;
        }),
        p.get(), nullptr);
    p->readable = SourceHolder(rd);
    g_source_attach(rd, context_.get());

    GSource* dl = g_timeout_source_new(static_cast<guint>(limits_.first_request_timeout.count()));
    g_source_set_callback(
        dl,
        [](gpointer data) noexcept -> gboolean {
          auto* pend = static_cast<Pending*>(data);
          GMS_LOG_INFO("client %s: no complete request in time; closed", pend->peer.c_str());
          pend->door->policy_->counters.refused(ServerCounters::Refusal::kRequestTimeout);
          pend->door->drop(pend);
          return G_SOURCE_REMOVE;
        },
        p.get(), nullptr);
    p->deadline = SourceHolder(dl);
    g_source_attach(dl, context_.get());
    Pending* raw = p.get();
    pending_.emplace(raw, std::move(p));
  }
  return G_SOURCE_CONTINUE;
}

void FrontDoor::drop(Pending* p) {
  g_socket_close(p->socket.get(), nullptr);
  pending_.erase(p);  // destroys its sources (safe inside their own dispatch)
}

void FrontDoor::on_readable(Pending* p) {
  char buf[4096];
  gssize n = g_socket_receive(p->socket.get(), buf, sizeof buf, nullptr, nullptr);
  if (n == 0) {
    drop(p);
    return;
  }
  if (n < 0)
    return;  // spurious wake-up or EAGAIN; the deadline still runs
  if (memchr(buf, '\0', static_cast<size_t>(n))) {
    send_status(p->socket.get(), "400 Bad Request", p->buffer);
    policy_->counters.refused(ServerCounters::Refusal::kBadRequest);
    drop(p);
    return;
  }
  p->buffer.append(buf, static_cast<size_t>(n));
  if (p->buffer.find("\r\n\r\n") != std::string::npos || p->buffer.find("\n\n") != std::string::npos) {
    dispatch(p);
    return;
  }
  if (p->buffer.size() > limits_.max_first_request) {
    GMS_LOG_INFO("client %s: request headers over %zu bytes; refused", p->peer.c_str(),
                 limits_.max_first_request);
    // No line end yet: the request line itself is the long one.
    bool line = p->buffer.find('\n') == std::string::npos;
    send_status(p->socket.get(),
                line ? "414 Request-URI Too Large" : "431 Request Header Fields Too Large",
                p->buffer);
    policy_->counters.refused(ServerCounters::Refusal::kRequestSize);
    drop(p);
  }
}

void FrontDoor::dispatch(Pending* p) {
  std::string method = p->buffer.substr(0, p->buffer.find(' '));
  if ((method == "REGISTER" || method == "DEREGISTER") && register_) {
    auto sock = p->socket;
    std::string peer = p->peer, request = p->buffer;
    pending_.erase(p);
    register_(sock, peer, request);
    return;
  }
  if (over_limits(p->peer)) {
    send_status(p->socket.get(), "503 Service Unavailable", p->buffer);
    drop(p);
    return;
  }
  // Refused ones are answered here; the connection goes on with what
  // follows them when it can.
  while (std::optional<FirstRequestRefusal> no =
             check_first_request(p->buffer, policy_->max_request_size.load())) {
    g_socket_send(p->socket.get(), no->reply.data(), no->reply.size(), nullptr, nullptr);
    policy_->counters.refused(ServerCounters::Refusal::kBadRequest);
    if (no->close) {
      drop(p);
      return;
    }
    p->buffer.erase(0, no->consumed);
    if (p->buffer.find("\r\n\r\n") == std::string::npos &&
        p->buffer.find("\n\n") == std::string::npos)
      return;  // the next request is still to come, within the same deadline
  }
  // Its body too, within the same deadline: the library would wait for
  // a missing one as long as the connection stays open.
  if (p->buffer.size() < first_request_size(p->buffer))
    return;
  // The two halves of an HTTP tunnel meet only when they come from one
  // address (tunnel_cookie.h).
  method = p->buffer.substr(0, p->buffer.find(' '));
  if (method == "GET" || method == "POST")
    p->buffer = bind_tunnel_cookie(p->buffer, p->peer);
  // gst-rtsp-server takes its own reference to the socket and parses the
  // bytes read so far as the start of the stream.
  if (!gst_rtsp_server_transfer_connection(server_.get(), G_SOCKET(g_object_ref(p->socket.get())),
                                           p->peer.c_str(), p->peer_port, p->buffer.c_str()))
    GMS_LOG_WARN("client %s: could not be handed to the RTSP server", p->peer.c_str());
  pending_.erase(p);
}

bool FrontDoor::over_limits(const std::string& peer) const {
  unsigned open = policy_->clients.load();
  if (limits_.max_connections && open >= limits_.max_connections) {
    GMS_LOG_WARN("client %s: refused, %u connections open (max-connections)", peer.c_str(), open);
    policy_->counters.refused(ServerCounters::Refusal::kMaxConnections);
    return true;
  }
  if (limits_.max_per_address && policy_->connections_from(peer) >= limits_.max_per_address) {
    GMS_LOG_WARN("client %s: refused, too many connections from it (max-connections-per-address)",
                 peer.c_str());
    policy_->counters.refused(ServerCounters::Refusal::kMaxPerAddress);
    return true;
  }
  return false;
}

// An RTSPS connection: a refusal cannot be answered before the handshake,
// so one over the caps is closed.
void FrontDoor::hand_over_tls(Ref<GSocket> socket, const std::string& peer, int peer_port) {
  if (over_limits(peer)) {
    g_socket_close(socket.get(), nullptr);
    return;
  }
  mark_tls_socket(socket.get(), tls_.get());
  if (!gst_rtsp_server_transfer_connection(server_.get(), G_SOCKET(g_object_ref(socket.get())),
                                           peer.c_str(), peer_port, nullptr))
    GMS_LOG_WARN("client %s: could not be handed to the RTSP server", peer.c_str());
}

}  // namespace gms
