// LaunchRelay: the one running copy of a shared launch path's line. Each
// payloader's RTP goes into a relay channel (msrelaysink), which the path's
// viewers (one shared PLAY media of msrelaysrc) and its recorder read: a
// viewer joining or leaving never touches the line, a late joiner starts at
// the cached key frame, and a viewer that stops reading stalls nobody else.
//
// Lifetime: started by the first viewer's DESCRIBE, stopped `linger` s
// after the last viewer left; always-on lines and held ones (recorded) run
// from attach() on and restart after an error or the end of the stream.
//
// States, written on the control context: idle → starting → ready; an error
// makes a wanted line retrying (back-off 1, 2, 4 … 30 s), any other idle.
// A line that has not delivered (caps on every payloader, a packet on one)
// within start-timeout is torn down, and the viewers waiting for it get
// the reason.
#pragma once

#include <gst-mediaserver/config.h>
#include <gst/gst.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gms/ref.h"
#include "gms/signal.h"
#include "path/source.h"

namespace gms::mounts {

class LaunchRelay : public Source, public std::enable_shared_from_this<LaunchRelay> {
 public:
  enum class State { kIdle, kStarting, kReady, kRetrying };

  explicit LaunchRelay(const PathConfig& path);
  ~LaunchRelay() override;
  LaunchRelay(const LaunchRelay&) = delete;
  LaunchRelay& operator=(const LaunchRelay&) = delete;

  const char* kind() const override { return "launch"; }
  // Control context: from now on the line runs there; a wanted line starts.
  void attach(GMainContext* control) override;
  // Control context: the line stops for good (the path goes).
  void stop() override;
  // Control context: keep the line running without viewers (a recorder
  // reads it); off again: it lingers like after its last viewer.
  void hold(bool on) override;
  bool live() const override { return state() == State::kReady; }
  PathState path_state() const override;
  bool returns_after_outage() const override { return true; }

  // RTSP client thread, at DESCRIBE and SETUP: starts an idle line and waits
  // (woken by the line, never polling) up to start-timeout for it to
  // deliver. Empty when it delivers, else why not (the request gets 503).
  std::string wait_ready();
  // A viewer media of this path was made / finalized (any thread).
  void media_started();
  void media_ended();

  // The channels while the line delivers; empty otherwise.
  std::vector<std::string> ready_channels() const override;
  std::vector<Ref<GstCaps>> track_caps() const override;
  State state() const;
  const PathConfig& config() const { return config_; }

 private:
  void on_control(std::function<void()> fn);
  bool wanted() const;  // runs without viewers: always-on or held
  void start_line();
  bool build(std::string& why);
  void delivered(unsigned index, uint64_t run, GstCaps* caps);
  void arm_linger();
  void on_message(GstMessage* msg);
  void failed(const std::string& why);
  void start_timed_out();
  void linger_expired();
  void teardown();
  void set_state(State s, const std::string& why = {});

  const PathConfig config_;
  // Control context only, from here.
  Ref<GMainContext> control_;
  Ref<GstElement> pipeline_;
  SourceHolder bus_watch_, retry_, start_timer_, linger_;
  std::chrono::seconds backoff_{1};
  bool held_ = false;
  bool stopped_ = false;

  mutable std::mutex lock_;  // protects everything below; taken last
  std::condition_variable cv_;
  State state_ = State::kIdle;
  unsigned streams_ = 0;
  std::vector<Ref<GstCaps>> caps_;  // per payloader: the caps it sent
  bool packets_ = false;          // a packet is out
  uint64_t run_ = 0;  // moves on with every pipeline built: a late probe of an old one is ignored
  unsigned medias_ = 0;
  std::string last_error_;
};

}  // namespace gms::mounts
