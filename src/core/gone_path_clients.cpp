#include "core/gone_path_clients.h"

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

struct Closing {
  const std::vector<std::string>* names;
  unsigned closed = 0;
};

// Server filter: REMOVE closes the client (the library unlocks the server
// around the close).
GstRTSPFilterResult close_if_on_path(GstRTSPServer*, GstRTSPClient* client, gpointer data) noexcept {
  auto* closing = static_cast<Closing*>(data);
  Search search{closing->names};
  gst_rtsp_client_session_filter(client, search_session, &search);
  closing->closed += search.found;
  return search.found ? GST_RTSP_FILTER_REMOVE : GST_RTSP_FILTER_KEEP;
}

}  // namespace

unsigned close_clients_of(GstRTSPServer* server, const std::vector<std::string>& names) {
  if (names.empty())
    return 0;
  Closing closing{&names};
  gst_rtsp_server_client_filter(server, close_if_on_path, &closing);
  return closing.closed;
}

}  // namespace gms
