#include "core/gone_path_clients.h"

#include "core/log.h"
#include "core/off_thread.h"

namespace gms {
namespace {

struct Search {
  const std::vector<std::string>* names;
  bool found = false;
};

}  // namespace

bool session_media_is(GstRTSPSessionMedia* sm, const std::string& name) {
  // The library matches when the media's path is a prefix of the one asked
  // ("/a" for "/ab"): only the whole name counts here.
  for (const std::string& p : {name, name + "/"}) {
    gint matched = 0;
    if (gst_rtsp_session_media_matches(sm, p.c_str(), &matched) && size_t(matched) == p.size())
      return true;
  }
  return false;
}

namespace {

bool on_path(GstRTSPSessionMedia* sm, const std::vector<std::string>& names) {
  for (const auto& n : names)
    if (session_media_is(sm, n))
      return true;
  return false;
}

GstRTSPFilterResult find_media(GstRTSPSession*, GstRTSPSessionMedia* sm, gpointer data) noexcept {
  auto* search = static_cast<Search*>(data);
  if (on_path(sm, *search->names))
    search->found = true;
  return GST_RTSP_FILTER_KEEP;
}

GstRTSPFilterResult search_session(GstRTSPClient*, GstRTSPSession* sess, gpointer data) noexcept {
  gst_rtsp_session_filter(sess, find_media, data);
  return GST_RTSP_FILTER_KEEP;
}

struct Collecting {
  const std::vector<std::string>* names;
  std::vector<Ref<GstRTSPClient>> found;
};

GstRTSPFilterResult collect_if_on_path(GstRTSPServer*, GstRTSPClient* client,
                                       gpointer data) noexcept {
  auto* collecting = static_cast<Collecting*>(data);
  Search search{collecting->names};
  gst_rtsp_client_session_filter(client, search_session, &search);
  if (search.found)
    collecting->found.push_back(Ref<GstRTSPClient>::borrow(client));
  return GST_RTSP_FILTER_KEEP;
}

// Session filter: drop the session medias of the given paths.
GstRTSPFilterResult drop_session_media(GstRTSPSession*, GstRTSPSessionMedia* sm,
                                       gpointer data) noexcept {
  auto* names = static_cast<const std::vector<std::string>*>(data);
  return on_path(sm, *names) ? GST_RTSP_FILTER_REMOVE : GST_RTSP_FILTER_KEEP;
}

GstRTSPFilterResult drop_client_sessions(GstRTSPClient*, GstRTSPSession* sess,
                                         gpointer data) noexcept {
  gst_rtsp_session_filter(sess, drop_session_media, data);
  // A session left without media is removed; its client stays connected.
  GList* left = gst_rtsp_session_filter(sess, nullptr, nullptr);
  bool empty = left == nullptr;
  g_list_free_full(left, g_object_unref);
  return empty ? GST_RTSP_FILTER_REMOVE : GST_RTSP_FILTER_KEEP;
}

// Only the clients found before: by now the path's new version may have
// clients of its own, which must be left alone.
void drop(const std::vector<std::string>& names, const std::vector<Ref<GstRTSPClient>>& clients) {
  for (const auto& c : clients) {
    gst_rtsp_client_close(c.get());
    // What the close left of those paths (a client already closing).
    gst_rtsp_client_session_filter(c.get(), drop_client_sessions,
                                   const_cast<std::vector<std::string>*>(&names));
  }
  if (!clients.empty())
    GMS_LOG_INFO("closed %zu connection(s) of removed or changed paths", clients.size());
}

}  // namespace

std::vector<Ref<GstRTSPClient>> clients_of(GstRTSPServer* server,
                                           const std::vector<std::string>& names) {
  Collecting collecting{&names, {}};
  if (!names.empty())
    gst_rtsp_server_client_filter(server, collect_if_on_path, &collecting);
  return std::move(collecting.found);
}

void drop_off_thread(std::vector<std::string> names, std::vector<Ref<GstRTSPClient>> clients) {
  if (names.empty() || clients.empty())
    return;
  run_off_thread("gms-drop", [names, clients] { drop(names, clients); });
}

}  // namespace gms
