#include "proxy/backend_link.h"

#include <mutex>

namespace gms::proxy {
namespace {

// rtspsrc opens its connections through a GSocketClient it keeps to itself.
// Every GSocketClient announces a new connection on the thread that asked for
// it; for rtspsrc that is its own task thread, which then sends a request and
// so runs our before-send handler, where the connections the thread made are
// handed to the session's link and the thread is marked as the session's:
// its later connections go to the link at once. Other threads' clients (a
// viewer, libsoup) are remembered too, weakly and only the last few, so
// nothing is kept open. A thread's mark ends with its session's link (the
// link lives until the session's rtspsrc is finalized, after its thread
// stopped working for it).
constexpr size_t kRememberedPerThread = 4;

struct FreshConnections {
  std::vector<GWeakRef*> refs;
  ~FreshConnections() {
    for (GWeakRef* r : refs) {
      g_weak_ref_clear(r);
      delete r;
    }
  }
};
thread_local FreshConnections t_fresh;
thread_local std::weak_ptr<BackendLink> t_session;

gboolean on_client_event(GSignalInvocationHint*, guint n, const GValue* values, gpointer) noexcept {
  if (n < 4 || g_value_get_enum(&values[1]) != G_SOCKET_CLIENT_CONNECTED)
    return TRUE;
  auto* conn = static_cast<GObject*>(g_value_get_object(&values[3]));
  if (!conn || !G_IS_SOCKET_CONNECTION(conn))
    return TRUE;
  // GstTask threads are pooled: a thread marked by a session that was
  // given up may be working for the next session now. Its connection waits
  // with the thread's fresh ones for the next request, which says whose it
  // is (the old session's is then shut, the new one's kept).
  if (auto link = t_session.lock(); link && !link->given_up()) {
    link->add_connection(conn);
    return TRUE;
  }
  auto& refs = t_fresh.refs;
  if (refs.size() >= kRememberedPerThread) {
    g_weak_ref_clear(refs.front());
    delete refs.front();
    refs.erase(refs.begin());
  }
  auto* r = new GWeakRef;
  g_weak_ref_init(r, conn);
  refs.push_back(r);
  return TRUE;  // stay installed
}

void shut(GWeakRef* r) {
  auto* conn = static_cast<GSocketConnection*>(g_weak_ref_get(r));
  if (!conn)
    return;
  // Shut, not closed: rtspsrc still owns the socket and closes it itself;
  // its reads and writes fail from now on.
  g_socket_shutdown(g_socket_connection_get_socket(conn), TRUE, TRUE, nullptr);
  g_object_unref(conn);
}

}  // namespace

BackendLink::~BackendLink() {
  for (GWeakRef* r : sockets_) {
    g_weak_ref_clear(r);
    delete r;
  }
}

void BackendLink::detach() {
  std::lock_guard<std::mutex> g(lock_);
  owner_ = nullptr;
  detached_ = true;
}

void BackendLink::claim_thread(const std::shared_ptr<BackendLink>& link) {
  t_session = link;
  auto& refs = t_fresh.refs;
  if (refs.empty())
    return;
  std::lock_guard<std::mutex> g(link->sockets_lock_);
  for (GWeakRef* r : refs) {
    link->sockets_.push_back(r);
    if (link->aborted_)
      shut(r);
  }
  refs.clear();
}

void BackendLink::add_connection(GObject* conn) {
  auto* r = new GWeakRef;
  g_weak_ref_init(r, conn);
  std::lock_guard<std::mutex> g(sockets_lock_);
  sockets_.push_back(r);
  if (aborted_)
    shut(r);  // a reconnect of a session already given up
}

void BackendLink::abort() {
  std::lock_guard<std::mutex> g(sockets_lock_);
  aborted_ = true;
  for (GWeakRef* r : sockets_)
    shut(r);
}

void BackendLink::watch_connections() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto* klass = g_type_class_ref(G_TYPE_SOCKET_CLIENT);  // kept: the hook needs the signal
    guint id = g_signal_lookup("event", G_TYPE_SOCKET_CLIENT);
    g_signal_add_emission_hook(id, 0, on_client_event, nullptr, nullptr);
    (void)klass;
  });
}

}  // namespace gms::proxy
