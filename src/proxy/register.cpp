#include "proxy/register.h"

#include <algorithm>
#include <cstring>

#include "core/log.h"
#include "core/session_pool.h"

namespace gms::proxy {
namespace {


std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return g_ascii_tolower(c); });
  return s;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// The value of header `name` (case-insensitive), or empty.
std::string header(const std::string& text, const std::string& name) {
  std::string l = lower(text), key = "\n" + lower(name) + ":";
  auto pos = l.find(key);
  if (pos == std::string::npos)
    return {};
  pos += key.size();
  auto end = text.find('\n', pos);
  return trim(text.substr(pos, end == std::string::npos ? std::string::npos : end - pos));
}

std::string md5(const std::string& s) {
  GCharPtr h(g_compute_checksum_for_string(G_CHECKSUM_MD5, s.c_str(), -1));
  return h.get();
}

// param="value" or param=value from a Digest header.
std::string digest_param(const std::string& auth, const std::string& name) {
  std::string l = lower(auth);
  size_t pos = 0;
  while ((pos = l.find(name, pos)) != std::string::npos) {
    bool start = pos == 0 || l[pos - 1] == ' ' || l[pos - 1] == ',';
    size_t eq = pos + name.size();
    while (eq < l.size() && l[eq] == ' ')
      ++eq;
    if (start && eq < l.size() && l[eq] == '=') {
      size_t v = eq + 1;
      while (v < auth.size() && auth[v] == ' ')
        ++v;
      if (v < auth.size() && auth[v] == '"') {
        auto end = auth.find('"', v + 1);
        return end == std::string::npos ? std::string() : auth.substr(v + 1, end - v - 1);
      }
      auto end = auth.find_first_of(", ", v);
      return auth.substr(v, end == std::string::npos ? std::string::npos : end - v);
    }
    pos += name.size();
  }
  return {};
}

bool equal_constant_time(const std::string& a, const std::string& b) {
  if (a.size() != b.size())
    return false;
  unsigned char d = 0;
  for (size_t i = 0; i < a.size(); ++i)
    d |= static_cast<unsigned char>(a[i] ^ b[i]);
  return d == 0;
}

bool valid_suffix(const std::string& s) {
  if (s.empty() || s.size() > 200)
    return false;
  for (unsigned char c : s)
    if (!(g_ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/'))
      return false;
  return s.find("..") == std::string::npos && s.front() != '/' && s.back() != '/' &&
         s.find("//") == std::string::npos;
}

}  // namespace

bool parse_register(const std::string& text, RegisterRequest& out, std::string& why) {
  auto eol = text.find("\r\n");
  std::string line = text.substr(0, eol);
  gchar** parts = g_strsplit(line.c_str(), " ", 3);
  GStrvPtr guard(parts);
  if (g_strv_length(parts) != 3 || !g_str_has_prefix(parts[2], "RTSP/1.")) {
    why = "bad request line";
    return false;
  }
  out.method = parts[0];
  out.url = parts[1];
  if (out.method != "REGISTER" && out.method != "DEREGISTER") {
    why = "not REGISTER";
    return false;
  }
  out.cseq = header(text, "CSeq");
  if (out.cseq.empty() || out.cseq.size() > 12 ||
      out.cseq.find_first_not_of("0123456789") != std::string::npos) {
    why = "missing or bad CSeq";
    return false;
  }
  if (!g_str_has_prefix(out.url.c_str(), "rtsp://") || out.url.size() > 1024) {
    why = "the URL is not rtsp://";
    return false;
  }
  out.authorization = header(text, "Authorization");
  std::string transport = header(text, "Transport");
  GStrvPtr fields(g_strsplit(transport.c_str(), ";", -1));
  for (gchar** f = fields.get(); *f; ++f) {
    std::string field = trim(*f);
    if (field == "reuse_connection")
      out.reuse_connection = true;
    else if (lower(field) == "preferred_delivery_protocol=interleaved")
      out.via_tcp = true;
    else if (lower(field) == "preferred_delivery_protocol=udp")
      out.via_tcp = false;
    else if (lower(field).rfind("proxy_url_suffix=", 0) == 0)
      out.suffix = field.substr(17);
  }
  if (!out.suffix.empty() && !valid_suffix(out.suffix)) {
    why = "bad proxy_url_suffix";
    return false;
  }
  return true;
}

bool digest_ok(const std::string& auth, const std::string& method, const std::string& realm,
               const std::string& nonce, const std::string& user, const std::string& password) {
  if (lower(auth).rfind("digest ", 0) != 0)
    return false;
  std::string a = auth.substr(7);
  std::string uri = digest_param(a, "uri");
  if (digest_param(a, "username") != user || digest_param(a, "realm") != realm ||
      !equal_constant_time(digest_param(a, "nonce"), nonce) || uri.empty())
    return false;
  std::string ha1 = md5(user + ":" + realm + ":" + password);
  std::string ha2 = md5(method + ":" + uri);
  return equal_constant_time(digest_param(a, "response"), md5(ha1 + ":" + nonce + ":" + ha2));
}

struct Registrar::Connection {
  Ref<GSocket> socket;
  std::string peer;
  std::string buffer;
  std::string nonce;
  SourceHolder readable;
};

struct Registrar::Splice {
  Ref<GSocketConnection> backend;
  Ref<GSocketService> service;
  uint16_t port = 0;
  Ref<GCancellable> cancel = Ref<GCancellable>::adopt(g_cancellable_new());
  ~Splice() {
    g_cancellable_cancel(cancel.get());
    g_socket_service_stop(service.get());
    g_socket_listener_close(G_SOCKET_LISTENER(service.get()));
    g_io_stream_close(G_IO_STREAM(backend.get()), nullptr, nullptr);
  }
};

Registrar::Registrar(GMainContext* control, std::string user, std::string password, Hooks hooks)
    : control_(Ref<GMainContext>::borrow(control)),
      user_(std::move(user)),
      password_(std::move(password)),
      hooks_(std::move(hooks)) {}

Registrar::~Registrar() = default;

void Registrar::take(Ref<GSocket> socket, const std::string& peer, const std::string& request) {
  auto c = std::make_unique<Connection>();
  c->socket = socket;
  c->peer = peer;
  c->nonce = random_token();
  Connection* raw = c.get();
  connections_.emplace(raw, std::move(c));
  handle(raw, request);
}

void Registrar::reply(Connection* c, const std::string& status, const std::string& cseq,
                      const std::string& extra) {
  std::string r = "RTSP/1.0 " + status + "\r\nCSeq: " + cseq +
                  "\r\nServer: gst-mediaserver\r\n" + extra + "\r\n";
  g_socket_set_blocking(c->socket.get(), TRUE);
  g_socket_set_timeout(c->socket.get(), 5);
  g_socket_send(c->socket.get(), r.data(), r.size(), nullptr, nullptr);
  g_socket_set_blocking(c->socket.get(), FALSE);
}

void Registrar::close(Connection* c) {
  g_socket_close(c->socket.get(), nullptr);
  connections_.erase(c);
}

void Registrar::handle(Connection* c, const std::string& request) {
  RegisterRequest r;
  std::string why;
  if (!parse_register(request, r, why)) {
    GMS_LOG_WARN("client %s: bad REGISTER (%s)", c->peer.c_str(), why.c_str());
    reply(c, "400 Bad Request", r.cseq.empty() ? "0" : r.cseq);
    close(c);
    return;
  }
  const bool needs_user = !user_.empty() || hooks_.authorize;
  const bool proved =
      (!user_.empty() &&
       digest_ok(r.authorization, r.method, hooks_.realm, c->nonce, user_, password_)) ||
      (hooks_.authorize && hooks_.authorize(r.authorization, r.method, c->nonce));
  if (needs_user && !proved) {
    if (!r.authorization.empty())
      GMS_LOG_WARN("client %s: %s with wrong credentials", c->peer.c_str(), r.method.c_str());
    reply(c, "401 Unauthorized", r.cseq,
          std::string("WWW-Authenticate: Digest realm=\"") + hooks_.realm + "\", nonce=\"" + c->nonce +
              "\"\r\n");
    // The back end answers on the same connection.
    GSource* src = g_socket_create_source(c->socket.get(), GIOCondition(G_IO_IN | G_IO_HUP | G_IO_ERR),
                                          nullptr);
    struct Ctx {
      Registrar* self;
      Connection* c;
    };
    g_source_set_callback(
        src,
        G_SOURCE_FUNC(+[](GSocket*, GIOCondition, gpointer data) noexcept -> gboolean {
          auto* x = static_cast<Ctx*>(data);
          Registrar* self = x->self;
          Connection* conn = x->c;
          char buf[4096];
          gssize n = g_socket_receive(conn->socket.get(), buf, sizeof buf, nullptr, nullptr);
          if (n == 0 || (n < 0 && !g_socket_condition_check(conn->socket.get(), G_IO_IN))) {
            self->close(conn);  // destroys this source
            return G_SOURCE_REMOVE;
          }
          if (n > 0)
            conn->buffer.append(buf, static_cast<size_t>(n));
          if (conn->buffer.size() > 65536) {
            self->close(conn);
            return G_SOURCE_REMOVE;
          }
          auto end = conn->buffer.find("\r\n\r\n");
          if (end != std::string::npos) {
            std::string req = conn->buffer.substr(0, end + 4);
            conn->buffer.erase(0, end + 4);
            conn->readable = SourceHolder();
            self->handle(conn, req);
            return G_SOURCE_REMOVE;
          }
          return G_SOURCE_CONTINUE;
        }),
        new Ctx{this, c}, [](gpointer d) { delete static_cast<Ctx*>(d); });
    c->readable = SourceHolder(src);
    g_source_attach(src, control_.get());
    return;
  }
  std::string name = r.suffix.empty() ? "registeredProxyStream-" + std::to_string(++anonymous_)
                                      : r.suffix;
  name = "/" + name;
  if (r.method == "DEREGISTER") {
    hooks_.remove(name);
    splices_.erase(name);
    GMS_LOG_INFO("client %s: DEREGISTER %s", c->peer.c_str(), name.c_str());
    reply(c, "200 OK", r.cseq);
    close(c);
    return;
  }
  std::string url = r.url;
  if (r.reuse_connection) {
    // Our RTSP client will reach the back end through a loopback port whose
    // bytes go over this very connection.
    reply(c, "200 OK", r.cseq);
    Ref<GSocket> sock = c->socket;
    connections_.erase(c);  // the splice owns the socket now
    url = splice_to(name, sock);
    if (url.empty()) {
      g_socket_close(sock.get(), nullptr);
      return;
    }
    GstRTSPUrl* parsed = nullptr;
    if (gst_rtsp_url_parse(r.url.c_str(), &parsed) == GST_RTSP_OK) {
      url += parsed->abspath ? parsed->abspath : "/";
      if (parsed->query)
        url += std::string("?") + parsed->query;
      gst_rtsp_url_free(parsed);
    }
    why = hooks_.add(name, url, true);  // one connection carries everything
  } else {
    why = hooks_.add(name, url, r.via_tcp);
    reply(c, why.empty() ? "200 OK" : "403 Forbidden", r.cseq);
    close(c);
  }
  if (why.empty())
    GMS_LOG_INFO("REGISTER %s: serving %s at %s%s", r.url.c_str(), url.c_str(), name.c_str(),
                 r.reuse_connection ? " (over the REGISTER connection)" : "");
  else
    GMS_LOG_WARN("REGISTER %s refused: %s", r.url.c_str(), why.c_str());
}

std::string Registrar::splice_to(const std::string& name, Ref<GSocket> backend) {
  auto sp = std::make_unique<Splice>();
  GErrorPtr err;
  sp->backend = Ref<GSocketConnection>::adopt(g_socket_connection_factory_create_connection(backend.get()));
  g_main_context_push_thread_default(control_.get());
  sp->service = Ref<GSocketService>::adopt(g_socket_service_new());
  auto addr = Ref<GInetAddress>::adopt(g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4));
  auto saddr = Ref<GSocketAddress>::adopt(g_inet_socket_address_new(addr.get(), 0));
  GSocketAddress* effective = nullptr;
  bool ok = g_socket_listener_add_address(G_SOCKET_LISTENER(sp->service.get()), saddr.get(),
                                          G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr,
                                          &effective, out(err));
  if (ok) {
    sp->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(effective));
    g_object_unref(effective);
    Splice* raw = sp.get();
    g_signal_connect(
        sp->service.get(), "incoming",
        G_CALLBACK(+[](GSocketService*, GSocketConnection* conn, GObject*, gpointer data) noexcept
                   -> gboolean {
          auto* s = static_cast<Splice*>(data);
          // Not closing either side: if our client reconnects, the back end's
          // connection is still there for the next one.
          g_io_stream_splice_async(G_IO_STREAM(conn), G_IO_STREAM(s->backend.get()),
                                   G_IO_STREAM_SPLICE_NONE, G_PRIORITY_DEFAULT, s->cancel.get(),
                                   nullptr, nullptr);
          return TRUE;
        }),
        raw);
    g_socket_service_start(sp->service.get());
  }
  g_main_context_pop_thread_default(control_.get());
  if (!ok) {
    GMS_LOG_WARN("REGISTER: no loopback port for the splice: %s", err->message);
    return {};
  }
  std::string url = "rtsp://127.0.0.1:" + std::to_string(sp->port);
  splices_[name] = std::move(sp);
  return url;
}

}  // namespace gms::proxy
