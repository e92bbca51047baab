#include "session/dropped_viewers.h"

#include <gst/rtsp-server/rtsp-session-media.h>
#include <gst/rtsp-server/rtsp-stream-transport.h>

#include <pthread.h>

#include <map>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "core/log.h"
#include "gms/invoke.h"
#include "session/session_registry.h"

namespace gms::session {
namespace {

struct Look {
  std::string id;  // the session's
  Ref<GstRTSPStream> stream;
  Ref<GstRTSPStreamTransport> trans;
};

template <typename T>
std::vector<Ref<T>> adopt_list(GList* list) {
  std::vector<Ref<T>> out;
  for (GList* l = list; l; l = l->next)
    out.push_back(Ref<T>::adopt(static_cast<T*>(l->data)));
  g_list_free(list);
  return out;
}

// The TCP transports of the PLAYING medias of every session (the pool's,
// the session's and the session media's locks, taken one at a time: not on
// the control context, as a client thread holds its session media's while
// it changes the media's state, for good if the media cannot stop).
std::vector<Look> playing_tcp(GstRTSPSessionPool* pool) {
  std::vector<Look> looks;
  for (const auto& session : adopt_list<GstRTSPSession>(gst_rtsp_session_pool_filter(pool, nullptr, nullptr))) {
    const std::string id = gst_rtsp_session_get_sessionid(session.get());
    for (const auto& sm :
         adopt_list<GstRTSPSessionMedia>(gst_rtsp_session_filter(session.get(), nullptr, nullptr))) {
      if (gst_rtsp_session_media_get_rtsp_state(sm.get()) != GST_RTSP_STATE_PLAYING)
        continue;
      GPtrArray* transports = gst_rtsp_session_media_get_transports(sm.get());
      for (guint i = 0; transports && i < transports->len; ++i) {
        auto* trans = static_cast<GstRTSPStreamTransport*>(g_ptr_array_index(transports, i));
        const GstRTSPTransport* t = trans ? gst_rtsp_stream_transport_get_transport(trans) : nullptr;
        GstRTSPStream* stream = trans ? gst_rtsp_stream_transport_get_stream(trans) : nullptr;
        if (t && stream && t->lower_transport == GST_RTSP_LOWER_TRANS_TCP)
          looks.push_back({id, Ref<GstRTSPStream>::borrow(stream),
                           Ref<GstRTSPStreamTransport>::borrow(trans)});
      }
      if (transports)
        g_ptr_array_unref(transports);
    }
  }
  return looks;
}

// The sessions of `looks` with a transport its stream no longer has.
std::set<std::string> missing_from_streams(const std::vector<Look>& looks) {
  std::map<GstRTSPStream*, std::vector<Ref<GstRTSPStreamTransport>>> in_stream;
  std::set<std::string> missing;
  for (const Look& l : looks) {
    auto [at, fresh] = in_stream.try_emplace(l.stream.get());
    if (fresh)
      at->second = adopt_list<GstRTSPStreamTransport>(
          gst_rtsp_stream_transport_filter(l.stream.get(), nullptr, nullptr));
    bool found = false;
    for (const auto& t : at->second)
      found = found || t.get() == l.trans.get();
    if (!found)
      missing.insert(l.id);
  }
  return missing;
}

}  // namespace

DroppedViewers::DroppedViewers(GstRTSPSessionPool* pool, std::shared_ptr<Registry> registry,
                               GMainContext* control)
    : pool_(Ref<GstRTSPSessionPool>::borrow(pool)),
      registry_(registry),
      control_(Ref<GMainContext>::borrow(control)) {}

void DroppedViewers::look() {
  if (asking_)
    return;
  // (The pool's lock only: never held for long.)
  if (gst_rtsp_session_pool_get_n_sessions(pool_.get()) == 0) {
    missing_once_.clear();
    return;
  }
  asking_ = true;
  std::weak_ptr<DroppedViewers> self = weak_from_this();
  try {
    std::thread([self, pool = pool_, control = control_] {
      pthread_setname_np(pthread_self(), "gms-dropped");  // lives a moment every 2 s
      auto missing =
          std::make_shared<std::set<std::string>>(missing_from_streams(playing_tcp(pool.get())));
      invoke_while_alive(control.get(), self, [self, missing] {
        if (auto me = self.lock())
          me->judged(*missing);
      });
    }).detach();
  } catch (const std::system_error&) {
    asking_ = false;
  }
}

void DroppedViewers::judged(const std::set<std::string>& missing) {
  asking_ = false;
  auto registry = registry_.lock();
  std::set<std::string> once;
  for (const std::string& id : missing) {
    if (!missing_once_.count(id)) {
      once.insert(id);
      continue;
    }
    GMS_LOG_INFO("session %s: its viewer did not keep up and was dropped from the stream; "
                 "session ended",
                 id.c_str());
    if (registry)
      registry->end(id);
  }
  missing_once_ = std::move(once);
}

}  // namespace gms::session
