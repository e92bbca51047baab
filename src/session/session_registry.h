// Every RTSP session with who made it: the client's address, the path, the
// transport, viewer or publisher, and when it started. Fed by the clients'
// signals (RTSP client threads) and the pool's "session-removed"; read and
// steered on the control context. Logs one line when a session starts
// (its first PLAY or RECORD) and one when it ends (TEARDOWN, DELETE over
// the API, timeout, or the close of its connection), at default verbosity.
#pragma once

#include <gst/rtsp-server/rtsp-client.h>
#include <gst/rtsp-server/rtsp-session-pool.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gms/ref.h"
#include "gms/signal.h"
#include "session/session_info.h"
#include "session/session_worker.h"

namespace gms {
class ClientSignals;
}

namespace gms::session {

class Registry : public std::enable_shared_from_this<Registry> {
 public:
  explicit Registry(GstRTSPSessionPool* pool);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Who the client is, once users exist (an RTSP client thread; null: no
  // user). Set before the server listens, never changed.
  std::function<std::optional<std::string>(GstRTSPClient*, GstRTSPContext*)> user_of;

  // A session started (its first PLAY or RECORD) or ended, from the thread
  // that saw it (an RTSP client thread, a finalizer, the control context),
  // outside lock_. Set before the server listens, never changed.
  std::function<void(const Info&, bool started)> on_session;

  // GstRTSPServer::client-connected (the listening context).
  void watch(GstRTSPClient* client);
  // What every client runs for the registry (sessions, PLAY, RECORD, PAUSE,
  // TEARDOWN, close); the handlers hold the registry weakly.
  void add_hooks(ClientSignals& signals);

  // Any thread: every session with its figures, read afresh by the worker
  // when it answers within kFreshWait; else (a read waiting on a media that
  // does not stop) those of its last read.
  std::vector<Info> list();
  // Any thread: ends session `id` as a TEARDOWN would, and closes its
  // client's connection, which tells the client; done by the worker, a
  // moment later. False when unknown.
  bool end(const std::string& id);
  // Any thread: the worker reads the figures kept for the end-of-session
  // line and for list().
  void refresh() { queue_read(); }
  // Any thread: the worker removes the sessions that timed out (the pool's
  // cleanup: their media's teardown can wait on the media).
  void expire();

  // (The worker may be busy with a media's teardown, or a read of
  // thousands of sessions may take longer: the control thread waits no
  // more, and the figures are then those of the last read, 2 s old at most.)
  static constexpr std::chrono::milliseconds kFreshWait{250};

 private:
  struct Entry {
    Info info;
    Ref<GstRTSPClient> client;
    gint64 started_mono = 0;
    bool start_logged = false;
  };
  static void on_new_session(GstRTSPClient*, GstRTSPSession*, gpointer) noexcept;
  static void on_play_or_record(GstRTSPClient*, GstRTSPContext*, gpointer) noexcept;
  static void on_pause(GstRTSPClient*, GstRTSPContext*, gpointer) noexcept;
  static GstRTSPStatusCode on_teardown(GstRTSPClient*, GstRTSPContext*, gpointer) noexcept;
  static void on_closed(GstRTSPClient*, gpointer) noexcept;
  static void on_removed(GstRTSPSessionPool*, GstRTSPSession*, gpointer) noexcept;
  void started(GstRTSPClient* client, GstRTSPContext* ctx, const std::string& role);
  void ended(const std::string& id);
  void keep_figures(const std::string& id, const Figures& f);
  // Copies of the entries' client references, to read them without lock_.
  std::vector<std::pair<std::string, Ref<GstRTSPClient>>> clients();
  // The worker's jobs. read_figures() reads every session's figures into
  // its entry; queue_read() queues one read unless one is queued already.
  void read_figures();
  void queue_read();
  void read_job();
  void expire_job();
  void end_now(const std::string& id, GstRTSPSession* session);
  // Queues `job` on the worker unless the one `queued` marks is still
  // waiting there; the flag is cleared as the job starts.
  void post_once(bool Registry::*queued, void (Registry::*job)());

  Ref<GstRTSPSessionPool> pool_;
  SignalConnection removed_;
  // A leaf: nothing of GStreamer is called while it is held (client
  // threads call in here holding the library's session and client locks).
  std::mutex lock_;
  std::map<std::string, Entry> entries_;  // by session id
  // A leaf too: the reads asked for (asked_) and done (served_: every ask
  // up to it), and whether a read is queued.
  std::mutex read_lock_;
  std::condition_variable read_done_;
  uint64_t asked_ = 0, served_ = 0;
  bool read_queued_ = false, expire_queued_ = false;
  Worker worker_{"gms-sessions"};  // last: stopped first
};

}  // namespace gms::session
