#include "core/client_guard.h"

#include <gst/rtsp-server/rtsp-mount-points.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <gst/rtsp-server/rtsp-session-media.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "core/client_reaper.h"
#include "core/client_signals.h"
#include "core/tcp_transport_fence.h"
#include "core/log.h"
#include "core/media_progress.h"
#include "core/seek_rtp_info.h"
#include "core/transport_check.h"
#include "core/wedged_media.h"
#include "gms/pattern.h"
#include "gms/ref.h"
#include "session/tcp_sent.h"

namespace gms {
namespace {

const char kClientId[] = "gms-client-id";
const char kSessionOwner[] = "gms-session-owner";
const char kSeekable[] = "gms-seekable";
const char kFileMedia[] = "gms-file-media";
const char kUnavailable[] = "gms-unavailable";
const char kAvailability[] = "gms-availability";
const char kPlayAsked[] = "gms-play-asked";
const char kSeekPlanner[] = "gms-seek-planner";
const char kBoundedStop[] = "gms-bounded-stop";
const char kRetryAfter[] = "gms-retry-after";

using PolicyPtr = std::shared_ptr<ClientPolicy>;

uint64_t client_id(GstRTSPClient* client) {
  return GPOINTER_TO_SIZE(g_object_get_data(G_OBJECT(client), kClientId));
}

std::string peer(GstRTSPClient* client) {
  GstRTSPConnection* conn = gst_rtsp_client_get_connection(client);
  const char* ip = conn ? gst_rtsp_connection_get_ip(conn) : nullptr;
  return ip ? ip : "?";
}

const char* method_name(GstRTSPContext* ctx) {
  if (!ctx->request || ctx->request->type != GST_RTSP_MESSAGE_REQUEST)
    return "?";
  return gst_rtsp_method_as_text(ctx->request->type_data.request.method);
}

// A session answers only to the connection that created it (B01; the
// library looks sessions up by id alone).
GstRTSPStatusCode check_owner(GstRTSPClient* client, GstRTSPContext* ctx) {
  GMS_LOG_DEBUG("client %" G_GUINT64_FORMAT " %s: %s %s", client_id(client), peer(client).c_str(),
                method_name(ctx), ctx->uri ? ctx->uri->abspath : "");
  if (!ctx->session)
    return GST_RTSP_STS_OK;
  uint64_t owner = GPOINTER_TO_SIZE(g_object_get_data(G_OBJECT(ctx->session), kSessionOwner));
  if (owner != 0 && owner != client_id(client)) {
    GMS_LOG_WARN("client %s: %s with another connection's session refused", peer(client).c_str(),
                 method_name(ctx));
    return GST_RTSP_STS_SESSION_NOT_FOUND;
  }
  return GST_RTSP_STS_OK;
}

GstRTSPStatusCode pre_request(GstRTSPClient* client, GstRTSPContext* ctx, gpointer) noexcept {
  return check_owner(client, ctx);
}

// Not an RTSP status: the factory went, find the path's new one.
constexpr auto kLookAgain = GstRTSPStatusCode(-1);

// The status for `factory` (null: none), or kLookAgain once when it was
// unmounted meanwhile.
GstRTSPStatusCode check_factory(GstRTSPClient* client, GstRTSPContext* ctx,
                                GstRTSPMediaFactory* factory, bool may_look_again) {
  if (!factory)
    return GST_RTSP_STS_OK;
  if (auto* why = static_cast<const char*>(g_object_get_data(G_OBJECT(factory), kUnavailable))) {
    GMS_LOG_WARN("client %s: %s %s: 503, %s", peer(client).c_str(), method_name(ctx),
                 ctx->uri->abspath, why);
    return GST_RTSP_STS_SERVICE_UNAVAILABLE;
  }
  if (auto* check = static_cast<AvailabilityCheck*>(
          g_object_get_data(G_OBJECT(factory), kAvailability))) {
    Availability a = (*check)();
    if (a.look_again && may_look_again)
      return kLookAgain;
    if (a.code != GST_RTSP_STS_OK) {
      GMS_LOG_WARN("client %s: %s %s: %d, %s", peer(client).c_str(), method_name(ctx),
                   ctx->uri->abspath, int(a.code), a.why.c_str());
      return a.code;
    }
  }
  return GST_RTSP_STS_OK;
}

// DESCRIBE and SETUP of a path whose source cannot be built: 503.
// A SETUP's Transport header, before the library's lenient parser sees it.
GstRTSPStatusCode check_transport(GstRTSPClient* client, GstRTSPContext* ctx) {
  if (!ctx->request || ctx->request->type_data.request.method != GST_RTSP_SETUP)
    return GST_RTSP_STS_OK;
  gchar* value = nullptr;
  if (gst_rtsp_message_get_header(ctx->request, GST_RTSP_HDR_TRANSPORT, &value, 0) != GST_RTSP_OK)
    return GST_RTSP_STS_OK;  // the library answers a missing one itself
  std::string why;
  if (transport_header_ok(value, why))
    return GST_RTSP_STS_OK;
  GMS_LOG_INFO("client %s: SETUP refused (461): Transport: %s", peer(client).c_str(), why.c_str());
  return GST_RTSP_STS_UNSUPPORTED_TRANSPORT;
}

GstRTSPStatusCode check_available(GstRTSPClient* client, GstRTSPContext* ctx) {
  if (!ctx->uri)
    return GST_RTSP_STS_OK;
  auto mounts = Ref<GstRTSPMountPoints>::adopt(gst_rtsp_client_get_mount_points(client));
  if (!mounts)
    return GST_RTSP_STS_OK;
  // The library makes the path (and our mount points mount a pattern's
  // path) only after this signal: do it now, so that a path made on
  // demand is checked like the others. A path unmounted just as it was
  // found is mounted afresh.
  for (int attempt = 0;; ++attempt) {
    GCharPtr made(gst_rtsp_mount_points_make_path(mounts.get(), ctx->uri));
    gint matched = 0;
    auto factory = Ref<GstRTSPMediaFactory>::adopt(
        gst_rtsp_mount_points_match(mounts.get(), ctx->uri->abspath, &matched));
    GstRTSPStatusCode code = check_factory(client, ctx, factory.get(), attempt == 0);
    if (code != kLookAgain)
      return code;
  }
}

GstRTSPStatusCode pre_describe_setup(GstRTSPClient* client, GstRTSPContext* ctx,
                                     gpointer data) noexcept {
  GstRTSPStatusCode code = check_owner(client, ctx);
  if (code != GST_RTSP_STS_OK)
    return code;
  if ((code = check_transport(client, ctx)) != GST_RTSP_STS_OK)
    return code;
  const auto& policy = *static_cast<PolicyPtr*>(data);
  if (policy->draining && !ctx->session) {
    GMS_LOG_INFO("client %s: %s refused (503): the server is draining", peer(client).c_str(),
                 method_name(ctx));
    g_object_set_data(G_OBJECT(client), kRetryAfter, GINT_TO_POINTER(1));
    return GST_RTSP_STS_SERVICE_UNAVAILABLE;
  }
  if (policy->resolve && ctx->uri && ctx->request) {
    bool setup = ctx->request->type_data.request.method == GST_RTSP_SETUP;
    try {
      code = policy->resolve(ctx->uri->abspath[0] ? ctx->uri->abspath : "/",
                             ctx->uri->query ? ctx->uri->query : "", setup);
    } catch (const std::exception& e) {
      GMS_LOG_ERROR("client %s: %s: %s", peer(client).c_str(), method_name(ctx), e.what());
      code = GST_RTSP_STS_INTERNAL_SERVER_ERROR;
    }
    if (code == GST_RTSP_STS_SERVICE_UNAVAILABLE)
      g_object_set_data(G_OBJECT(client), kRetryAfter, GINT_TO_POINTER(1));
    if (code != GST_RTSP_STS_OK)
      return code;
  }
  return check_available(client, ctx);
}

GstRTSPFilterResult unwatch_foreign(GstRTSPClient* client, GstRTSPSession* session,
                                    gpointer) noexcept {
  uint64_t owner = GPOINTER_TO_SIZE(g_object_get_data(G_OBJECT(session), kSessionOwner));
  return owner != 0 && owner != client_id(client) ? GST_RTSP_FILTER_REMOVE : GST_RTSP_FILTER_KEEP;
}

// The library starts watching a session as soon as a request names it,
// before any check (its own authentication's included), and stops the TCP
// media of every session it watches when the connection closes: a request
// with another connection's session, refused or not, ended that session's
// stream once its sender hung up (B01). Once such a request is answered,
// the connection forgets the session again (which only unlinks it: the
// library's drop-backlog default leaves the media alone).
void forget_foreign_sessions(GstRTSPClient* client, GstRTSPContext* ctx) {
  gchar* id = nullptr;
  if (!ctx || !ctx->request || ctx->request->type != GST_RTSP_MESSAGE_REQUEST ||
      gst_rtsp_message_get_header(ctx->request, GST_RTSP_HDR_SESSION, &id, 0) != GST_RTSP_OK)
    return;
  g_list_free_full(gst_rtsp_client_session_filter(client, unwatch_foreign, nullptr),
                   g_object_unref);
}

// Every answer: a session named by another connection is forgotten. The
// reply to a request that resolve() answered 503 (a file still being
// probed) says when to come back; the answer is cached by then.
void on_send_message(GstRTSPClient* client, GstRTSPContext* ctx, GstRTSPMessage* message,
                     gpointer) noexcept {
  if (message->type != GST_RTSP_MESSAGE_RESPONSE)
    return;
  forget_foreign_sessions(client, ctx);
  if (!g_object_steal_data(G_OBJECT(client), kRetryAfter) ||
      message->type_data.response.code != GST_RTSP_STS_SERVICE_UNAVAILABLE)
    return;
  gst_rtsp_message_add_header(message, GST_RTSP_HDR_RETRY_AFTER, "1");
}

// RFC 2326 §3.6 npt-range, optionally followed by ";time=": the library's
// parser accepts garbage such as "npt=abc-" or "npt=-5--1".
bool well_formed_npt(const char* value) {
  static const Pattern re(
      R"(^\s*npt\s*=\s*(now|\d{1,10}(\.\d{0,9})?|\d{1,6}:[0-5]?\d:[0-5]?\d(\.\d{0,9})?)?\s*-\s*)"
      R"((\d{1,10}(\.\d{0,9})?|\d{1,6}:[0-5]?\d:[0-5]?\d(\.\d{0,9})?)?\s*(;\s*time\s*=\s*[0-9TZ.]+)?\s*$)");
  return re.found_in(value);
}

bool parse_number(const char* s, double& out) {
  if (!s || !*s)
    return false;
  char* end = nullptr;
  out = g_ascii_strtod(s, &end);
  while (end && *end == ' ')
    ++end;
  return end && *end == '\0' && std::isfinite(out);
}

// Range, Scale and Speed are refused when malformed and dropped where the
// media must not seek; the library then never reaches its assertions
// (CVE-2024-44331) or flush-seeks a shared pipeline.
GstRTSPStatusCode check_play_headers(GstRTSPContext* ctx, GstRTSPMedia* media) {
  GstRTSPMessage* req = ctx->request;
  gchar* value = nullptr;
  if (gst_rtsp_message_get_header(req, GST_RTSP_HDR_RANGE, &value, 0) == GST_RTSP_OK) {
    GstRTSPTimeRange* range = nullptr;
    if (!well_formed_npt(value) || gst_rtsp_range_parse(value, &range) != GST_RTSP_OK)
      return GST_RTSP_STS_INVALID_RANGE;
    GstClockTime min = GST_CLOCK_TIME_NONE, max = GST_CLOCK_TIME_NONE;
    bool ok = range->unit == GST_RTSP_RANGE_NPT &&
              (range->min.type != GST_RTSP_TIME_SECONDS || range->min.seconds >= 0) &&
              gst_rtsp_range_get_times(range, &min, &max) &&
              (min == GST_CLOCK_TIME_NONE || max == GST_CLOCK_TIME_NONE || min <= max);
    gst_rtsp_range_free(range);
    if (!ok)
      return GST_RTSP_STS_INVALID_RANGE;
  }
  double scale = 1.0, speed = 1.0;
  if (gst_rtsp_message_get_header(req, GST_RTSP_HDR_SCALE, &value, 0) == GST_RTSP_OK &&
      (!parse_number(value, scale) || scale == 0.0 || std::fabs(scale) > 64.0))
    return GST_RTSP_STS_BAD_REQUEST;
  if (gst_rtsp_message_get_header(req, GST_RTSP_HDR_SPEED, &value, 0) == GST_RTSP_OK &&
      (!parse_number(value, speed) || speed <= 0.0 || speed > 64.0))
    return GST_RTSP_STS_BAD_REQUEST;
  if (!media || !g_object_get_data(G_OBJECT(media), kSeekable)) {
    gst_rtsp_message_remove_header(req, GST_RTSP_HDR_RANGE, -1);
    gst_rtsp_message_remove_header(req, GST_RTSP_HDR_SCALE, -1);
    gst_rtsp_message_remove_header(req, GST_RTSP_HDR_SPEED, -1);
  }
  return GST_RTSP_STS_OK;
}

// The refused headers, for the log line: cut short, control bytes shown as '?'.
std::string play_headers_text(GstRTSPMessage* req) {
  std::string text;
  for (GstRTSPHeaderField field : {GST_RTSP_HDR_RANGE, GST_RTSP_HDR_SCALE, GST_RTSP_HDR_SPEED}) {
    gchar* value = nullptr;
    if (gst_rtsp_message_get_header(req, field, &value, 0) != GST_RTSP_OK)
      continue;
    std::string shown(value, strnlen(value, 80));
    for (char& c : shown)
      if (g_ascii_iscntrl(c))
        c = '?';
    text += std::string(text.empty() ? "" : ", ") + gst_rtsp_header_as_text(field) + ": " + shown;
  }
  return text;
}

using RangePtr = UniquePtr<GstRTSPTimeRange, gst_rtsp_range_free>;

// The library calls gst_rtsp_media_get_rates() on every PLAY and aborts the
// process (g_assert, CVE-2024-44331) when a set-up sending stream has no
// segment or two streams disagree on the rate. Asked here first, without
// the assertion, such a PLAY is refused instead. `streams`: the streams the
// PLAY will complete (this session's), checked besides the complete ones.
bool rates_consistent(GstRTSPMedia* media, const std::vector<GstRTSPStream*>& streams,
                      std::string& why) {
  std::vector<GstRTSPStream*> check = streams;
  for (guint i = 0; i < gst_rtsp_media_n_streams(media); ++i) {
    GstRTSPStream* stream = gst_rtsp_media_get_stream(media, i);
    if (stream && gst_rtsp_stream_is_complete(stream))
      check.push_back(stream);
  }
  bool first = true;
  double rate0 = 1.0, applied0 = 1.0;
  for (GstRTSPStream* stream : check) {
    if (!gst_rtsp_stream_is_sender(stream))
      continue;
    double rate = 0, applied = 0;
    if (!gst_rtsp_stream_get_rates(stream, &rate, &applied)) {
      why = "stream " + std::to_string(gst_rtsp_stream_get_index(stream)) + " has no segment";
      return false;
    }
    if (!first && (rate != rate0 || applied != applied0)) {
      why = "streams play at different rates";
      return false;
    }
    first = false;
    rate0 = rate;
    applied0 = applied;
  }
  return true;
}

struct FileSeek {
  RangePtr range;
  double scale = 1.0;
  double speed = 1.0;
  GstSeekFlags flags = GST_SEEK_FLAG_NONE;
  // The library's rule too: the segment plays at Scale × Speed.
  double rate() const { return scale * speed; }
  bool wanted() const { return range || rate() != 1.0; }
  // "npt=0-" (what ffmpeg and VLC send) on a freshly prerolled media.
  bool at_start() const {
    if (rate() != 1.0 || !range)
      return rate() == 1.0;
    GstClockTime start = GST_CLOCK_TIME_NONE, stop = GST_CLOCK_TIME_NONE;
    gst_rtsp_range_get_times(range.get(), &start, &stop);
    return (start == 0 || start == GST_CLOCK_TIME_NONE) && stop == GST_CLOCK_TIME_NONE;
  }
};

// Range (key frame at or before, or as Seek-Style says), Scale and Speed,
// already validated by check_play_headers().
FileSeek parse_seek_headers(GstRTSPMessage* req) {
  FileSeek seek;
  gchar* value = nullptr;
  if (gst_rtsp_message_get_header(req, GST_RTSP_HDR_RANGE, &value, 0) == GST_RTSP_OK) {
    GstRTSPTimeRange* r = nullptr;
    if (gst_rtsp_range_parse(value, &r) == GST_RTSP_OK)
      seek.range.reset(r);
  }
  if (gst_rtsp_message_get_header(req, GST_RTSP_HDR_SCALE, &value, 0) == GST_RTSP_OK &&
      !parse_number(value, seek.scale))
    seek.scale = 1.0;
  if (gst_rtsp_message_get_header(req, GST_RTSP_HDR_SPEED, &value, 0) == GST_RTSP_OK &&
      !parse_number(value, seek.speed))
    seek.speed = 1.0;
  if (seek.range) {
    seek.flags = GST_SEEK_FLAG_KEY_UNIT;
    if (gst_rtsp_message_get_header(req, GST_RTSP_HDR_SEEK_STYLE, &value, 0) == GST_RTSP_OK) {
      std::string style = value;
      if (style == "RAP")
        seek.flags = GST_SEEK_FLAG_ACCURATE;
      else if (style == "First-Prior")
        seek.flags = GstSeekFlags(GST_SEEK_FLAG_KEY_UNIT | GST_SEEK_FLAG_SNAP_BEFORE);
      else if (style == "Next")
        seek.flags = GstSeekFlags(GST_SEEK_FLAG_KEY_UNIT | GST_SEEK_FLAG_SNAP_AFTER);
    }
  }
  if (seek.scale != 1.0)
    seek.flags = GstSeekFlags(seek.flags | GST_SEEK_FLAG_TRICKMODE);
  return seek;
}

// Which of Scale and Speed a PLAY of a file asked for: the reply names the
// same ones (RFC 7826 §18.46, §18.50), whoever removed them from the request.
// Kept on the client between pre-play and the reply (one request at a time).
struct PlayAsked {
  bool fresh = false;  // the session's first PLAY: prerolled at the start
  bool seeked = false;  // adjust_play_mode() seeked the file
  bool scale = false;
  bool speed = false;
  double speed_value = 1.0;
};

void remember_play_asked(GstRTSPClient* client, GstRTSPMessage* req, bool fresh) {
  auto* asked = new PlayAsked();
  asked->fresh = fresh;
  gchar* value = nullptr;
  asked->scale = gst_rtsp_message_get_header(req, GST_RTSP_HDR_SCALE, &value, 0) == GST_RTSP_OK;
  asked->speed = gst_rtsp_message_get_header(req, GST_RTSP_HDR_SPEED, &value, 0) == GST_RTSP_OK;
  if (asked->speed && !parse_number(value, asked->speed_value))
    asked->speed_value = 1.0;
  g_object_set_data_full(G_OBJECT(client), kPlayAsked, asked,
                         [](gpointer p) { delete static_cast<PlayAsked*>(p); });
}

// Where the demuxer is seeked to: earlier than asked when the media snaps
// to key frames itself (KeySnap). `storage` holds a changed range.
GstRTSPTimeRange* planned_range(GstRTSPMedia* media, const FileSeek& seek,
                                GstRTSPTimeRange& storage) {
  auto* planner = static_cast<SeekPlanner*>(g_object_get_data(G_OBJECT(media), kSeekPlanner));
  if (!planner)
    return seek.range.get();
  GstClockTime start = GST_CLOCK_TIME_NONE, stop = GST_CLOCK_TIME_NONE;
  // Snapping is "at or before": not for Seek-Style RAP or Next, nor trick modes.
  bool snaps = seek.range && seek.rate() == 1.0 &&
               !(seek.flags & (GST_SEEK_FLAG_ACCURATE | GST_SEEK_FLAG_SNAP_AFTER)) &&
               seek.range->unit == GST_RTSP_RANGE_NPT &&
               gst_rtsp_range_get_times(seek.range.get(), &start, &stop);
  GstClockTime to = (*planner)(snaps ? start : GST_CLOCK_TIME_NONE);
  if (!GST_CLOCK_TIME_IS_VALID(to))
    return seek.range.get();
  storage = *seek.range;
  storage.min.type = GST_RTSP_TIME_SECONDS;
  storage.min.seconds = gst_guint64_to_gdouble(to) / GST_SECOND;
  return &storage;
}

GstClockTime media_duration(GstRTSPMedia* media) {
  auto element = Ref<GstElement>::adopt(gst_rtsp_media_get_element(media));
  auto pipeline = Ref<GstObject>::adopt(element ? gst_object_get_parent(GST_OBJECT(element.get()))
                                                : nullptr);
  gint64 duration = -1;
  if (!pipeline || !GST_IS_ELEMENT(pipeline.get()) ||
      !gst_element_query_duration(GST_ELEMENT(pipeline.get()), GST_FORMAT_TIME, &duration) ||
      duration <= 0)
    return GST_CLOCK_TIME_NONE;
  return GstClockTime(duration);
}

// The library seeks an open-ended Range ("npt=1-") with the stop left as
// it was (GST_SEEK_TYPE_NONE): after "npt=0.5-0.6" the old end would stay,
// and a start past it fails the demuxer's seek with a critical. When the
// last seek had an end, an open-ended one is given the file's end. `range`
// is the range to seek with; a changed one is written to `storage`.
GstRTSPTimeRange* open_end(GstRTSPMedia* media, GstRTSPTimeRange* range, double rate,
                           GstRTSPTimeRange& storage) {
  GstClockTime start = GST_CLOCK_TIME_NONE, stop = GST_CLOCK_TIME_NONE;
  if (!range || rate < 0 || !gst_rtsp_range_get_times(range, &start, &stop) ||
      GST_CLOCK_TIME_IS_VALID(stop) || !g_object_get_data(G_OBJECT(media), kBoundedStop))
    return range;
  GstClockTime end = media_duration(media);
  if (!GST_CLOCK_TIME_IS_VALID(end) || (GST_CLOCK_TIME_IS_VALID(start) && end < start))
    return range;  // the demuxer refuses it as before: 457
  if (range != &storage)
    storage = *range;
  storage.max.type = GST_RTSP_TIME_SECONDS;
  storage.max.seconds = gst_guint64_to_gdouble(end) / GST_SECOND;
  return &storage;
}

// Seeks a complete, prerolled file media, then waits until every track has
// its new segment: the library's get_rates() right after would otherwise
// find a stream between its flush and its segment, and abort (seen with
// MPEG-PS when the library made the seek).
GstRTSPStatusCode seek_file_media(GstRTSPClient* client, GstRTSPMedia* media,
                                  const FileSeek& seek) {
  // The library refuses to seek a media that is not prepared; one resumed
  // from PAUSE may still be prerolling: get_status() waits for that.
  if (GstRTSPMediaStatus status = gst_rtsp_media_get_status(media);
      status != GST_RTSP_MEDIA_STATUS_PREPARED) {
    GMS_LOG_WARN("client %s: PLAY refused (503): the file's pipeline is not ready (%d)",
                 peer(client).c_str(), int(status));
    return GST_RTSP_STS_SERVICE_UNAVAILABLE;
  }
  GstRTSPTimeRange storage{};
  GstRTSPTimeRange* range =
      open_end(media, planned_range(media, seek, storage), seek.rate(), storage);
  watch_first_packets(media);
  bool sought = false;
  {
    // The seek can wedge the media's streams (wedged_media.h): watched.
    SeekWatch watch(media);
    sought = gst_rtsp_media_seek_trickmode(media, range, seek.flags, seek.rate(), 0);
  }
  if (!sought) {
    GMS_LOG_INFO("client %s: PLAY refused: the file cannot seek there", peer(client).c_str());
    return seek.range ? GST_RTSP_STS_INVALID_RANGE
                      : GST_RTSP_STS_HEADER_FIELD_NOT_VALID_FOR_RESOURCE;
  }
  if (seek.range) {
    GstClockTime start = GST_CLOCK_TIME_NONE, stop = GST_CLOCK_TIME_NONE;
    bool bounded = gst_rtsp_range_get_times(seek.range.get(), &start, &stop) &&
                   GST_CLOCK_TIME_IS_VALID(stop);
    g_object_set_data(G_OBJECT(media), kBoundedStop, GINT_TO_POINTER(bounded ? 1 : 0));
  }
  std::string why;
  auto progress = MediaProgress::of(media);
  if (!progress->wait_until([&] { return rates_consistent(media, {}, why); },
                            MediaProgress::Clock::now() + std::chrono::seconds(5))) {
    GMS_LOG_WARN("client %s: PLAY refused (503) after a seek: %s", peer(client).c_str(),
                 why.c_str());
    return GST_RTSP_STS_SERVICE_UNAVAILABLE;
  }
  return GST_RTSP_STS_OK;
}

GstRTSPStatusCode play_file_media(GstRTSPClient* client, GstRTSPContext* ctx,
                                  GstRTSPMedia* media) {
  std::vector<GstRTSPStream*> session_streams;
  bool complete = true;
  if (ctx->sessmedia) {
    GPtrArray* transports = gst_rtsp_session_media_get_transports(ctx->sessmedia);
    for (guint i = 0; transports && i < transports->len; ++i) {
      auto* t = static_cast<GstRTSPStreamTransport*>(g_ptr_array_index(transports, i));
      if (GstRTSPStream* stream = t ? gst_rtsp_stream_transport_get_stream(t) : nullptr) {
        session_streams.push_back(stream);
        complete = complete && gst_rtsp_stream_is_complete(stream);
      }
    }
    if (transports)
      g_ptr_array_unref(transports);
  }
  remember_play_asked(client, ctx->request, !complete);
  // Every seek of a file media is made by us, never by the library (see
  // seek_file_media()), in adjust_play_mode(): only then has the library
  // completed the pipeline (gst_rtsp_media_seek*() refuses an incomplete
  // media: the first PLAY) and resumed a paused one (it refuses a
  // suspended media: PLAY after PAUSE, as ffmpeg -ss sends).
  std::string why;
  auto progress = MediaProgress::of(media);
  if (!progress->wait_until([&] { return rates_consistent(media, session_streams, why); },
                            MediaProgress::Clock::now() + std::chrono::seconds(1))) {
    GMS_LOG_WARN("client %s: PLAY refused (503): %s; the library would abort on it",
                 peer(client).c_str(), why.c_str());
    return GST_RTSP_STS_SERVICE_UNAVAILABLE;
  }
  return GST_RTSP_STS_OK;
}

GstRTSPStatusCode pre_play(GstRTSPClient* client, GstRTSPContext* ctx, gpointer) noexcept {
  GstRTSPStatusCode code = check_owner(client, ctx);
  if (code != GST_RTSP_STS_OK)
    return code;
  GstRTSPMedia* media = ctx->sessmedia ? gst_rtsp_session_media_get_media(ctx->sessmedia) : ctx->media;
  code = check_play_headers(ctx, media);
  if (code != GST_RTSP_STS_OK) {
    GMS_LOG_INFO("client %s: PLAY refused (%d): bad Range, Scale or Speed (%s)",
                 peer(client).c_str(), code, play_headers_text(ctx->request).c_str());
    return code;
  }
  if (media && g_object_get_data(G_OBJECT(media), kFileMedia))
    return play_file_media(client, ctx, media);
  return GST_RTSP_STS_OK;
}

bool is_file_media(GstRTSPMedia* media) {
  return media && g_object_get_data(G_OBJECT(media), kFileMedia);
}

// The library's play-mode hook: after it completed the pipeline (the
// transports are added) and unsuspended it, before it plays. A file's PLAY
// with a Range, Scale or Speed is seeked here, by us; the library's own seek
// is then made a no-op (no range, rate 1, no flags: "no position change").
GstRTSPStatusCode adjust_play_mode(GstRTSPClient* client, GstRTSPContext* ctx,
                                   GstRTSPTimeRange** range, GstSeekFlags* flags, gdouble* rate,
                                   GstClockTime*, gboolean*) noexcept {
  if (!is_file_media(ctx->media))
    return GST_RTSP_STS_OK;
  GstRTSPStatusCode code = GST_RTSP_STS_OK;
  if (g_object_get_data(G_OBJECT(ctx->media), kSeekable)) {
    FileSeek seek = parse_seek_headers(ctx->request);
    auto* asked = static_cast<PlayAsked*>(g_object_get_data(G_OBJECT(client), kPlayAsked));
    // "npt=0-" (what ffmpeg and VLC send first) on a media just prerolled
    // at the start needs no seek.
    if (seek.wanted() && !(asked && asked->fresh && seek.at_start())) {
      code = seek_file_media(client, ctx->media, seek);
      if (asked)
        asked->seeked = code == GST_RTSP_STS_OK;
    }
  }
  if (*range)
    gst_rtsp_range_free(*range);
  *range = nullptr;
  *rate = 1.0;
  *flags = GST_SEEK_FLAG_NONE;
  return code;
}

double header_number(GstRTSPMessage* msg, GstRTSPHeaderField field) {
  gchar* value = nullptr;
  double v = 1.0;
  if (gst_rtsp_message_get_header(msg, field, &value, 0) != GST_RTSP_OK || !parse_number(value, v))
    return 1.0;
  return v;
}

// After our seek the library's RTP-Info may name a time 2 s (the segment's
// time) away from the first packet (see core/seek_rtp_info.h): each stream's
// rtptime is made again from its first packet after the seek, for the start
// of the reply's Range.
void replace_rtp_info(GstRTSPMessage* resp, GstRTSPSessionMedia* sessmedia) {
  GstClockTime npt_start = GST_CLOCK_TIME_NONE;
  gchar* value = nullptr;
  GstRTSPTimeRange* range = nullptr;
  if (gst_rtsp_message_get_header(resp, GST_RTSP_HDR_RANGE, &value, 0) == GST_RTSP_OK &&
      gst_rtsp_range_parse(value, &range) == GST_RTSP_OK) {
    GstClockTime stop = GST_CLOCK_TIME_NONE;
    if (range->unit != GST_RTSP_RANGE_NPT || !gst_rtsp_range_get_times(range, &npt_start, &stop))
      npt_start = GST_CLOCK_TIME_NONE;
    gst_rtsp_range_free(range);
  }
  std::string info = rtp_info_from_first_packets(sessmedia, npt_start, G_USEC_PER_SEC);
  if (info.empty())
    return;
  gst_rtsp_message_remove_header(resp, GST_RTSP_HDR_RTP_INFO, -1);
  gst_rtsp_message_add_header(resp, GST_RTSP_HDR_RTP_INFO, info.c_str());
}

// The library names Scale and Speed in the reply after the headers it saw
// and after the segment's rate (it puts a Scale request's rate in Speed):
// a file's reply names what the request asked, with the rate played.
GstRTSPStatusCode adjust_play_response(GstRTSPClient* client, GstRTSPContext* ctx) noexcept {
  session::tcp_transports_playing(ctx->sessmedia);
  auto* asked = static_cast<PlayAsked*>(g_object_steal_data(G_OBJECT(client), kPlayAsked));
  std::unique_ptr<PlayAsked> owned(asked);
  if (!asked || !is_file_media(ctx->media))
    return GST_RTSP_STS_OK;
  GstRTSPMessage* resp = ctx->response;
  double played = header_number(resp, GST_RTSP_HDR_SCALE) * header_number(resp, GST_RTSP_HDR_SPEED);
  gst_rtsp_message_remove_header(resp, GST_RTSP_HDR_SCALE, -1);
  gst_rtsp_message_remove_header(resp, GST_RTSP_HDR_SPEED, -1);
  auto add = [resp](GstRTSPHeaderField field, double v) {
    gst_rtsp_message_take_header(resp, field, g_strdup_printf("%1.3f", v));
  };
  double speed = asked->speed ? asked->speed_value : 1.0;
  if (asked->scale || (!asked->speed && played != 1.0))
    add(GST_RTSP_HDR_SCALE, played / speed);
  if (asked->speed)
    add(GST_RTSP_HDR_SPEED, speed);
  if (asked->seeked && ctx->sessmedia)
    replace_rtp_info(resp, ctx->sessmedia);
  return GST_RTSP_STS_OK;
}

void on_new_session(GstRTSPClient* client, GstRTSPSession* session, gpointer data) noexcept {
  auto* policy = static_cast<PolicyPtr*>(data);
  gst_rtsp_session_set_timeout(session, (*policy)->session_timeout);
  // The library gives 5 s of grace past the announced timeout (a 2 s
  // session lived 7 s); 1 s covers a keep-alive sent right at the end.
  g_object_set(session, "extra-timeout", 1u, nullptr);
  g_object_set_data(G_OBJECT(session), kSessionOwner, GSIZE_TO_POINTER(client_id(client)));
  GMS_LOG_INFO("client %s: new session %s", peer(client).c_str(),
               gst_rtsp_session_get_sessionid(session));
}

void on_closed(GstRTSPClient* client, gpointer data) noexcept {
  auto* policy = static_cast<PolicyPtr*>(data);
  (*policy)->closed(peer(client));
  GMS_LOG_INFO("client %s: disconnected", peer(client).c_str());
}

}  // namespace
}  // namespace gms

// ---------------------------------------------------------------------------
// GmsRtspClient and GmsRtspServer: the stock client with the two PLAY hooks
// that only a subclass gets (adjust_play_mode, adjust_play_response), and a
// server that makes such clients.
// ---------------------------------------------------------------------------

G_BEGIN_DECLS
#define GMS_TYPE_RTSP_CLIENT (gms_rtsp_client_get_type())
G_DECLARE_FINAL_TYPE(GmsRtspClient, gms_rtsp_client, GMS, RTSP_CLIENT, GstRTSPClient)
#define GMS_TYPE_RTSP_SERVER (gms_rtsp_server_get_type())
G_DECLARE_FINAL_TYPE(GmsRtspServer, gms_rtsp_server, GMS, RTSP_SERVER, GstRTSPServer)
G_END_DECLS

// The C++ members are constructed in init and destroyed in finalize.
struct _GmsRtspClient {
  GstRTSPClient parent;
  std::shared_ptr<const gms::ClientSignals> signals;  // its server's (client_signals.h)
  gms::TcpTransportFence fence;                        // its interleaved transports
  bool reaped;  // handed to the ClientReaper once (its dispose revived it)
};
struct _GmsRtspServer {
  GstRTSPServer parent;
  std::shared_ptr<gms::ClientSignals> signals;  // what its clients run
};

G_DEFINE_FINAL_TYPE(GmsRtspClient, gms_rtsp_client, GST_TYPE_RTSP_CLIENT)
G_DEFINE_FINAL_TYPE(GmsRtspServer, gms_rtsp_server, GST_TYPE_RTSP_SERVER)

// The last reference went: a client whose TCP transports a stream's send
// thread may still be calling into is revived and handed to the reaper,
// which lets go once they are out of their streams (tcp_transport_fence.h).
static void gms_rtsp_client_dispose(GObject* object) {
  GmsRtspClient* self = GMS_RTSP_CLIENT(object);
  if (!self->reaped && !self->fence.empty()) {
    self->reaped = true;
    gms::ClientReaper::instance().hold(GST_RTSP_CLIENT(g_object_ref(object)), &self->fence);
  }
  G_OBJECT_CLASS(gms_rtsp_client_parent_class)->dispose(object);
}

static void gms_rtsp_client_finalize(GObject* object) {
  GMS_RTSP_CLIENT(object)->fence.~TcpTransportFence();
  GMS_RTSP_CLIENT(object)->signals.~shared_ptr();
  G_OBJECT_CLASS(gms_rtsp_client_parent_class)->finalize(object);
}

static void gms_rtsp_client_class_init(GmsRtspClientClass* klass) {
  G_OBJECT_CLASS(klass)->dispose = gms_rtsp_client_dispose;
  G_OBJECT_CLASS(klass)->finalize = gms_rtsp_client_finalize;
  GST_RTSP_CLIENT_CLASS(klass)->adjust_play_mode = gms::adjust_play_mode;
  GST_RTSP_CLIENT_CLASS(klass)->adjust_play_response = gms::adjust_play_response;
  gms::route_client_signals(GST_RTSP_CLIENT_CLASS(klass));
}

static void gms_rtsp_client_init(GmsRtspClient* self) {
  new (&self->signals) std::shared_ptr<const gms::ClientSignals>();
  new (&self->fence) gms::TcpTransportFence();
  self->reaped = false;
}

namespace {

// What the stock server's default_create_client() sets, through the public
// getters.
GstRTSPClient* server_create_client(GstRTSPServer* server) noexcept {
  using gms::Ref;
  auto* client = GST_RTSP_CLIENT(g_object_new(GMS_TYPE_RTSP_CLIENT, nullptr));
  GMS_RTSP_CLIENT(client)->signals = GMS_RTSP_SERVER(server)->signals;
  auto pool = Ref<GstRTSPSessionPool>::adopt(gst_rtsp_server_get_session_pool(server));
  gst_rtsp_client_set_session_pool(client, pool.get());
  auto mounts = Ref<GstRTSPMountPoints>::adopt(gst_rtsp_server_get_mount_points(server));
  gst_rtsp_client_set_mount_points(client, mounts.get());
  gst_rtsp_client_set_content_length_limit(client,
                                           gst_rtsp_server_get_content_length_limit(server));
  auto auth = Ref<GstRTSPAuth>::adopt(gst_rtsp_server_get_auth(server));
  gst_rtsp_client_set_auth(client, auth.get());
  auto threads = Ref<GstRTSPThreadPool>::adopt(gst_rtsp_server_get_thread_pool(server));
  gst_rtsp_client_set_thread_pool(client, threads.get());
  return client;
}

}  // namespace

static void gms_rtsp_server_finalize(GObject* object) {
  GMS_RTSP_SERVER(object)->signals.~shared_ptr();
  G_OBJECT_CLASS(gms_rtsp_server_parent_class)->finalize(object);
}

static void gms_rtsp_server_class_init(GmsRtspServerClass* klass) {
  G_OBJECT_CLASS(klass)->finalize = gms_rtsp_server_finalize;
  GST_RTSP_SERVER_CLASS(klass)->create_client = server_create_client;
}

static void gms_rtsp_server_init(GmsRtspServer* self) {
  new (&self->signals) std::shared_ptr<gms::ClientSignals>(std::make_shared<gms::ClientSignals>());
}

namespace gms {

const ClientSignals* client_signal_table(GstRTSPClient* client) {
  return GMS_IS_RTSP_CLIENT(client) ? GMS_RTSP_CLIENT(client)->signals.get() : nullptr;
}

TcpTransportFence* tcp_transport_fence(GstRTSPClient* client) {
  return GMS_IS_RTSP_CLIENT(client) ? &GMS_RTSP_CLIENT(client)->fence : nullptr;
}

ClientSignals& client_signals(GstRTSPServer* server) { return *GMS_RTSP_SERVER(server)->signals; }

GstRTSPServer* new_rtsp_server() {
  return GST_RTSP_SERVER(g_object_new(GMS_TYPE_RTSP_SERVER, nullptr));
}

unsigned ClientPolicy::connections_from(const std::string& address) const {
  std::lock_guard<std::mutex> g(lock_);
  auto it = per_address_.find(address);
  return it == per_address_.end() ? 0 : it->second;
}

void ClientPolicy::opened(const std::string& address) {
  clients++;
  std::lock_guard<std::mutex> g(lock_);
  per_address_[address]++;
}

void ClientPolicy::closed(const std::string& address) {
  clients--;
  std::lock_guard<std::mutex> g(lock_);
  auto it = per_address_.find(address);
  if (it != per_address_.end() && --it->second == 0)
    per_address_.erase(it);
}

void set_media_seekable(GstRTSPMedia* media, bool seekable) {
  g_object_set_data(G_OBJECT(media), kSeekable, GINT_TO_POINTER(seekable ? 1 : 0));
}

void set_media_file(GstRTSPMedia* media) {
  g_object_set_data(G_OBJECT(media), kFileMedia, GINT_TO_POINTER(1));
}

void set_media_seek_planner(GstRTSPMedia* media, SeekPlanner planner) {
  g_object_set_data_full(G_OBJECT(media), kSeekPlanner, new SeekPlanner(std::move(planner)),
                         [](gpointer p) { delete static_cast<SeekPlanner*>(p); });
}

void set_factory_unavailable(GstRTSPMediaFactory* factory, const std::string& reason) {
  g_object_set_data_full(G_OBJECT(factory), kUnavailable, g_strdup(reason.c_str()), g_free);
}

void set_factory_availability(GstRTSPMediaFactory* factory, AvailabilityCheck check) {
  g_object_set_data_full(G_OBJECT(factory), kAvailability, new AvailabilityCheck(std::move(check)),
                         [](gpointer p) { delete static_cast<AvailabilityCheck*>(p); });
}

void guard_client(GstRTSPClient* client, const std::shared_ptr<ClientPolicy>& policy) {
  g_object_set_data(G_OBJECT(client), kClientId,
                    GSIZE_TO_POINTER(policy->next_client_id.fetch_add(1)));
  policy->opened(peer(client));
  if (GstRTSPConnection* conn = gst_rtsp_client_get_connection(client))
    gst_rtsp_connection_set_content_length_limit(conn, policy->max_request_size);
  GMS_LOG_INFO("client %s: connected", peer(client).c_str());
}

void add_client_guards(ClientSignals& signals, const std::shared_ptr<ClientPolicy>& policy) {
  auto* data = new PolicyPtr(policy);  // the table frees it
  signals.connect("new-session", G_CALLBACK(on_new_session), data,
                  [](gpointer p) { delete static_cast<PolicyPtr*>(p); });
  auto add = [&](const char* signal, GCallback cb) { signals.connect(signal, cb, data); };
  add("closed", G_CALLBACK(on_closed));
  add("pre-describe-request", G_CALLBACK(pre_describe_setup));
  add("pre-setup-request", G_CALLBACK(pre_describe_setup));
  // Not pre-options-request: gst-rtsp-server 1.22 frees the reply it keeps
  // on its stack when that signal refuses (handle_options_request), which
  // aborted the server on an OPTIONS carrying another connection's
  // session. OPTIONS acts on no session.
  for (const char* sig : {"pre-pause-request", "pre-teardown-request",
                          "pre-get-parameter-request", "pre-set-parameter-request",
                          "pre-announce-request", "pre-record-request"})
    add(sig, G_CALLBACK(pre_request));
  add("pre-play-request", G_CALLBACK(pre_play));
  // After the checks above: a PLAY or RECORD naming another connection's
  // session has been refused by then, and its transports are not this
  // client's to remember.
  add_tcp_transport_fence(signals);
  signals.connect("send-message", G_CALLBACK(on_send_message), nullptr);
}

}  // namespace gms
