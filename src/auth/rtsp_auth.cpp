#include "auth/rtsp_auth.h"

#include <gst/rtsp/gstrtspmessage.h>

#include <atomic>
#include <cstring>

#include "auth/redact.h"
#include "core/log.h"
#include "core/off_thread.h"
#include "core/tls_client.h"

GST_DEBUG_CATEGORY_STATIC(gms_auth_debug);
#define GST_CAT_DEFAULT gms_auth_debug

namespace gms::auth {
namespace {

std::atomic<uint64_t> g_failures{0};

// Per connection: what it was told and proved, and whether a late 401 is
// on its way (then the connection gets nothing more and is closed).
struct ClientAuth {
  std::mutex lock;  // protects everything below
  ConnectionAuth conn;
  bool closing = false;
};

GQuark client_quark() {
  static GQuark q = g_quark_from_static_string("gms-client-auth");
  return q;
}

ClientAuth& client_auth(GstRTSPClient* client) {
  auto* a = static_cast<ClientAuth*>(g_object_get_qdata(G_OBJECT(client), client_quark()));
  if (!a) {
    a = new ClientAuth;
    // A client's requests come one at a time on its thread: no race here.
    g_object_set_qdata_full(G_OBJECT(client), client_quark(), a,
                            [](gpointer p) { delete static_cast<ClientAuth*>(p); });
  }
  return *a;
}

// Session id → user, for the sessions API; an entry goes with its session.
struct SessionOwners {
  std::mutex lock;  // protects owners
  std::map<std::string, std::string> owners;
};
SessionOwners& session_owners() {
  static SessionOwners* o = new SessionOwners;  // lives as long as the process
  return *o;
}

void remember_owner(GstRTSPSession* session, const std::string& user) {
  if (!session || user.empty())
    return;
  std::string id = gst_rtsp_session_get_sessionid(session);
  auto& o = session_owners();
  {
    std::lock_guard<std::mutex> g(o.lock);
    if (!o.owners.emplace(id, user).second)
      return;
  }
  g_object_weak_ref(
      G_OBJECT(session),
      [](gpointer data, GObject*) noexcept {
        auto* sid = static_cast<std::string*>(data);
        auto& owners = session_owners();
        {
          std::lock_guard<std::mutex> g(owners.lock);
          owners.owners.erase(*sid);
        }
        delete sid;
      },
      new std::string(id));
}

unsigned roles_for(GstRTSPContext* ctx) {
  switch (ctx->method) {
    case GST_RTSP_DESCRIBE:
    case GST_RTSP_PLAY:
      return kRead;
    case GST_RTSP_ANNOUNCE:
    case GST_RTSP_RECORD:
      return kPublish;
    case GST_RTSP_SETUP: {
      gchar* transport = nullptr;
      gst_rtsp_message_get_header(ctx->request, GST_RTSP_HDR_TRANSPORT, &transport, 0);
      // mode=record or mode="RECORD": a publisher's stream.
      return transport && strcasestr(transport, "record") ? kPublish : kRead;
    }
    default:
      return kRead | kPublish;
  }
}

// The request's credentials, parsed by the library.
void read_credentials(GstRTSPContext* ctx, AuthRequest& r) {
  GstRTSPAuthCredential** creds =
      gst_rtsp_message_parse_auth_credentials(ctx->request, GST_RTSP_HDR_AUTHORIZATION);
  if (!creds)
    return;
  for (GstRTSPAuthCredential** c = creds; *c && r.scheme.empty(); ++c) {
    if ((*c)->scheme == GST_RTSP_AUTH_DIGEST) {
      r.scheme = "digest";
      for (GstRTSPAuthParam** p = (*c)->params; p && *p; ++p) {
        if (!(*p)->name || !(*p)->value)
          continue;
        gchar* name = g_ascii_strdown((*p)->name, -1);
        r.digest.emplace(name, (*p)->value);
        g_free(name);
      }
    } else if ((*c)->scheme == GST_RTSP_AUTH_BASIC && (*c)->authorization) {
      r.scheme = "basic";
      gsize len = 0;
      guchar* raw = g_base64_decode((*c)->authorization, &len);
      std::string plain(reinterpret_cast<char*>(raw), len);
      g_free(raw);
      auto colon = plain.find(':');
      r.basic_user = plain.substr(0, colon);
      if (colon != std::string::npos)
        r.basic_password = plain.substr(colon + 1);
    }
  }
  gst_rtsp_auth_credentials_free(creds);
}

struct LateAnswer {
  Ref<GstRTSPClient> client;
  GstRTSPMessage* message;
  bool sent = false;
};

// Sends `response` after `delay_ms` from the control context, and closes
// the connection one delay later (closing at once would flush the answer
// still queued): a guesser waits for every answer and reconnects.
void answer_late(GstRTSPClient* client, GstRTSPMessage* response, unsigned delay_ms,
                 GMainContext* control) {
  GstRTSPMessage* copy = nullptr;
  if (gst_rtsp_message_copy(response, &copy) != GST_RTSP_OK)
    return;
  auto* late = new LateAnswer{Ref<GstRTSPClient>::borrow(client), copy, false};
  GSource* src = g_timeout_source_new(delay_ms);
  g_source_set_callback(
      src,
      +[](gpointer data) noexcept -> gboolean {
        auto* l = static_cast<LateAnswer*>(data);
        if (!l->sent) {
          gst_rtsp_client_send_message(l->client.get(), nullptr, l->message);
          l->sent = true;
          return G_SOURCE_CONTINUE;
        }
        gst_rtsp_client_close(l->client.get());
        return G_SOURCE_REMOVE;
      },
      late,
      [](gpointer data) {
        auto* l = static_cast<LateAnswer*>(data);
        gst_rtsp_message_free(l->message);
        delete l;
      });
  g_source_attach(src, control);
  g_source_unref(src);
}

}  // namespace

void AccessPolicy::set(std::shared_ptr<Authenticator> core, std::vector<Anonymous> anonymous) {
  std::lock_guard<std::mutex> g(lock_);
  core_ = std::move(core);
  anonymous_ = std::move(anonymous);
}

std::shared_ptr<Authenticator> AccessPolicy::core() const {
  std::lock_guard<std::mutex> g(lock_);
  return core_;
}

unsigned AccessPolicy::anonymous_roles(const std::string& path) const {
  std::lock_guard<std::mutex> g(lock_);
  const Anonymous* best = nullptr;
  for (const auto& a : anonymous_)
    if (path_matches(a.pattern, path) && (!best || a.pattern.size() > best->pattern.size()))
      best = &a;
  return best ? best->roles : 0;
}

void AccessPolicy::set_control(GMainContext* control) {
  std::lock_guard<std::mutex> g(lock_);
  control_ = Ref<GMainContext>::borrow(control);
}

Ref<GMainContext> AccessPolicy::control() const {
  std::lock_guard<std::mutex> g(lock_);
  return control_;
}

}  // namespace gms::auth

struct GmsRtspAuth {
  GstRTSPAuth parent;
  std::shared_ptr<gms::auth::AccessPolicy>* policy;
};
struct GmsRtspAuthClass {
  GstRTSPAuthClass parent_class;
};
G_DEFINE_TYPE(GmsRtspAuth, gms_rtsp_auth, GST_TYPE_RTSP_AUTH)

namespace gms::auth {
namespace {

void send(GstRTSPContext* ctx, GstRTSPStatusCode code, const AuthResult* res) {
  gst_rtsp_message_init_response(ctx->response, code, gst_rtsp_status_as_text(code),
                                 ctx->request);
  if (res)
    for (const auto& c : res->challenges)
      gst_rtsp_message_add_header(ctx->response, GST_RTSP_HDR_WWW_AUTHENTICATE, c.c_str());
}

gboolean check_url(GmsRtspAuth* self, GstRTSPContext* ctx) {
  auto core = (*self->policy)->core();
  if (!core || ctx->method == GST_RTSP_OPTIONS)
    return TRUE;
  ClientAuth& ca = client_auth(ctx->client);
  std::lock_guard<std::mutex> g(ca.lock);
  if (ca.closing)
    return FALSE;  // a late 401 is on its way; nothing more on this connection
  AuthRequest r;
  r.method = gst_rtsp_method_as_text(ctx->method);
  r.uri = ctx->request->type_data.request.uri ? ctx->request->type_data.request.uri : "";
  r.path = ctx->uri && ctx->uri->abspath ? ctx->uri->abspath : "";
  r.ip = gst_rtsp_connection_get_ip(ctx->conn);
  r.tls = client_is_tls(ctx->client, GST_RTSP_AUTH(self), ctx->conn);
  r.needed = roles_for(ctx);
  r.anonymous = (*self->policy)->anonymous_roles(r.path);
  read_credentials(ctx, r);
  AuthResult res = core->check(r, ca.conn, g_get_monotonic_time());
  switch (res.verdict) {
    case AuthResult::Verdict::kAllow:
      remember_owner(ctx->session, res.user);
      return TRUE;
    case AuthResult::Verdict::kForbidden:
      GMS_LOG_INFO("client %s: %s %s refused: %s", r.ip.c_str(), r.method.c_str(),
                   redact(r.path).c_str(), res.why.c_str());
      send(ctx, GST_RTSP_STS_FORBIDDEN, nullptr);
      gst_rtsp_client_send_message(ctx->client, ctx->session, ctx->response);
      return FALSE;
    case AuthResult::Verdict::kChallenge:
      break;
  }
  if (res.bad_credentials)
    g_failures++;
  if (res.burst_started)
    GMS_LOG_WARN("client %s: %u failed logins in %u s; its refusals are now delayed",
                 r.ip.c_str(), FailureThrottle::kBurst,
                 unsigned(FailureThrottle::kWindowUs / 1000000));
  else if (res.bad_credentials && res.delay_ms == 0)
    GMS_LOG_INFO("client %s: %s %s: %s", r.ip.c_str(), r.method.c_str(),
                 redact(r.path).c_str(), redact(res.why).c_str());
  send(ctx, GST_RTSP_STS_UNAUTHORIZED, &res);
  Ref<GMainContext> control = (*self->policy)->control();
  if (res.delay_ms > 0 && control) {
    ca.closing = true;
    answer_late(ctx->client, ctx->response, res.delay_ms, control.get());
    return FALSE;
  }
  gst_rtsp_client_send_message(ctx->client, ctx->session, ctx->response);
  return FALSE;
}

gboolean gms_auth_check(GstRTSPAuth* auth, GstRTSPContext* ctx, const gchar* check) noexcept {
  auto* self = reinterpret_cast<GmsRtspAuth*>(auth);
  try {
    if (g_str_equal(check, GST_RTSP_AUTH_CHECK_CONNECT))  // TLS set-up: the library's
      return GST_RTSP_AUTH_CLASS(gms_rtsp_auth_parent_class)->check(auth, ctx, check);
    if (g_str_equal(check, GST_RTSP_AUTH_CHECK_URL))
      return check_url(self, ctx);
    // Clients never choose their own destination or ports beyond what
    // the stock server without auth allows.
    if (g_str_equal(check, GST_RTSP_AUTH_CHECK_TRANSPORT_CLIENT_SETTINGS))
      return FALSE;
    return TRUE;  // factory access: decided per path in check_url
  } catch (const std::exception& e) {
    GST_ERROR("auth check: %s", e.what());
    return FALSE;
  }
}

}  // namespace
}  // namespace gms::auth

static void gms_rtsp_auth_finalize(GObject* obj) {
  auto* self = reinterpret_cast<GmsRtspAuth*>(obj);
  delete self->policy;
  G_OBJECT_CLASS(gms_rtsp_auth_parent_class)->finalize(obj);
}

static void gms_rtsp_auth_class_init(GmsRtspAuthClass* klass) {
  G_OBJECT_CLASS(klass)->finalize = gms_rtsp_auth_finalize;
  GST_RTSP_AUTH_CLASS(klass)->check = gms::auth::gms_auth_check;
}

static void gms_rtsp_auth_init(GmsRtspAuth* self) {
  self->policy = new std::shared_ptr<gms::auth::AccessPolicy>(
      std::make_shared<gms::auth::AccessPolicy>());
}

namespace gms::auth {

GstRTSPAuth* new_rtsp_auth(std::shared_ptr<AccessPolicy> policy) {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(gms_auth_debug, "gmsauth", 0, "gst-mediaserver authentication");
    g_once_init_leave(&once, 1);
  }
  auto* self = static_cast<GmsRtspAuth*>(g_object_new(gms_rtsp_auth_get_type(), nullptr));
  *self->policy = std::move(policy);
  return GST_RTSP_AUTH(self);
}

std::string user_of_client(GstRTSPClient* client) {
  auto* a = static_cast<ClientAuth*>(g_object_get_qdata(G_OBJECT(client), client_quark()));
  if (!a)
    return {};
  std::lock_guard<std::mutex> g(a->lock);
  return a->conn.user;
}

std::string user_of_session(const std::string& session_id) {
  auto& o = session_owners();
  std::lock_guard<std::mutex> g(o.lock);
  auto it = o.owners.find(session_id);
  return it == o.owners.end() ? std::string() : it->second;
}

bool client_is_tls(GstRTSPClient* client, GstRTSPAuth* auth, GstRTSPConnection* conn) {
  if (gms::client_is_tls(client))  // accepted on our RTSPS port
    return true;
  // Asking a plain connection for its TLS object would wrap it in a new
  // TLS layer: ask only when the library made every connection TLS.
  GTlsCertificate* cert = gst_rtsp_auth_get_tls_certificate(auth);
  if (!cert)
    return false;
  g_object_unref(cert);
  return conn && gst_rtsp_connection_get_tls(conn, nullptr) != nullptr;
}

unsigned close_clients_of_users(GstRTSPServer* server, GstRTSPSessionPool* pool,
                                const std::function<bool(const std::string& user)>& keep) {
  struct Found {
    const std::function<bool(const std::string&)>* keep;
    std::vector<Ref<GstRTSPClient>> clients;
  } found{&keep, {}};
  gst_rtsp_server_client_filter(
      server,
      +[](GstRTSPServer*, GstRTSPClient* client, gpointer data) noexcept -> GstRTSPFilterResult {
        auto* f = static_cast<Found*>(data);
        std::string user = user_of_client(client);
        if (!user.empty() && !(*f->keep)(user)) {
          GMS_LOG_INFO("user %s: removed or changed; its sessions end", user.c_str());
          f->clients.push_back(Ref<GstRTSPClient>::borrow(client));
        }
        return GST_RTSP_FILTER_KEEP;
      },
      &found);
  if (found.clients.empty())
    return 0;
  // Ending a session tears its media down on the calling thread (off_thread.h).
  run_off_thread("gms-drop", [pool = Ref<GstRTSPSessionPool>::borrow(pool),
                              clients = found.clients] {
    for (const auto& c : clients) {
      gst_rtsp_client_session_filter(
          c.get(),
          +[](GstRTSPClient*, GstRTSPSession* sess, gpointer pool) noexcept {
            gst_rtsp_session_pool_remove(static_cast<GstRTSPSessionPool*>(pool), sess);
            return GST_RTSP_FILTER_REMOVE;
          },
          pool.get());
      gst_rtsp_client_close(c.get());
    }
  });
  return unsigned(found.clients.size());
}

uint64_t failure_count() { return g_failures; }
void count_failure() { g_failures++; }

}  // namespace gms::auth
