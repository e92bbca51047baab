// The server-wide cap on prepared pipelines (`max-pipelines`).
//
// gst-rtsp-server 1.22 builds and prerolls a pipeline for every DESCRIBE of
// a path whose media is not shared (each file viewer's own, for instance),
// and for a SETUP that names such a path without a DESCRIBE before it on
// its connection; nothing bounds how many. 300 DESCRIBEs that never SETUP
// held 300 pipelines, with their threads and files. The cap is consulted
// where the library is about to prepare a media (capped_thread_pool.h):
// a media that is new (unprepared) takes a place, one already prepared or
// being prepared (a shared media's later viewers) takes none, and the
// place is given back when the media is unprepared or, failing that,
// finalized. Beyond the cap the request gets 503 with Retry-After.
//
// Publishers' (RECORD) medias are not counted: max-publishers bounds them,
// and a viewer flood must never keep a publisher out.
//
// Thread-safety: every member may be called from any thread; the lock is a
// leaf (nothing is called with it held but GLib's object data).
#pragma once

#include <gst/rtsp-server/rtsp-media.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace gms {

class PipelineCap {
 public:
  explicit PipelineCap(unsigned max) : state_(std::make_shared<State>()) { set_max(max); }
  PipelineCap(const PipelineCap&) = delete;
  PipelineCap& operator=(const PipelineCap&) = delete;

  // 0: no cap. A lower cap refuses new pipelines until enough have ended.
  void set_max(unsigned max) { state_->max = max; }
  unsigned max() const { return state_->max; }

  // Before the library prepares `media` (a client thread): whether it may.
  // false with `why` set when the cap is reached.
  bool admit(GstRTSPMedia* media, std::string& why);

  // Pipelines prepared (or being prepared) now, and refusals so far.
  unsigned prepared() const;
  uint64_t refusals() const { return state_->refusals; }

 private:
  struct State {
    std::mutex lock;  // protects count and each Hold's counted flag
    unsigned count = 0;
    std::atomic<unsigned> max{0};
    std::atomic<uint64_t> refusals{0};
    void release(bool& counted);
  };
  // On a media (object data): whether it holds a place now.
  struct Hold {
    std::weak_ptr<State> state;
    bool counted = false;  // under state->lock
  };
  static void on_unprepared(GstRTSPMedia* media, gpointer hold) noexcept;
  static void free_hold(gpointer hold) noexcept;

  std::shared_ptr<State> state_;  // medias that outlive the cap hold it weakly
};

}  // namespace gms
