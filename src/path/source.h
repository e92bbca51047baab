// Source: what feeds a live path's relay channels, one implementation per
// kind (launch line, proxy, publisher). The Path and the server know
// sources only through this interface; only the sources and the
// configuration know the kinds.
#pragma once

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gms/ref.h"
#include "path/path_state.h"
#include "path/path_traffic.h"

namespace gms {

class Source {
 public:
  virtual ~Source() = default;

  // "launch", "proxy", "publish": for the API's listing.
  virtual const char* kind() const = 0;
  // Control context: runs from now on there (a source that needs no
  // viewer starts).
  virtual void attach(GMainContext* control) = 0;
  // Control context: stops for good (the path goes).
  virtual void stop() = 0;
  // Control context: keep delivering without viewers (a recorder reads).
  virtual void hold(bool on) = 0;

  // The relay channels, one per track, while the source delivers; empty
  // otherwise.
  virtual std::vector<std::string> ready_channels() const = 0;
  // Each ready channel's caps, in the same order, when the source knows
  // them all (a recorder then starts at once); empty otherwise (it reads
  // them from the channels).
  virtual std::vector<Ref<GstCaps>> track_caps() const { return {}; }
  // Delivers now, for the API.
  virtual bool live() const = 0;
  // A recorder stays through an outage (the source comes back by itself)
  // instead of ending with it (a publisher that leaves).
  virtual bool returns_after_outage() const = 0;
  // Empty when the path can be recorded, else why not (HTTP 409).
  virtual std::string unrecordable() const { return {}; }
  // Control context: where it stands now.
  virtual PathState path_state() const { return live() ? PathState::kReady : PathState::kIdle; }
  // Control context: how often it delivered again after losing its feed.
  virtual uint64_t reconnects() const { return 0; }
  // Clients sending to the path now (RECORD).
  virtual unsigned publishers() const { return 0; }

  // Where the source's msstats elements report; set once, before attach().
  void set_traffic(std::shared_ptr<PathTraffic> t) { traffic_ = std::move(t); }

  // Called on the control context whenever ready_channels() may have
  // changed (source ready, lost, back). One subscriber: its Path.
  void on_change(std::function<void()> fn) { changed_ = std::move(fn); }

 protected:
  void changed() const {
    if (changed_)
      changed_();
  }
  // An msstats element that counts track `index` for the path, to put in
  // front of its relay sink; null without traffic or without the element.
  Ref<GstElement> make_tap(unsigned index) const {
    return traffic_ ? traffic_->make_tap(index) : Ref<GstElement>();
  }

 private:
  std::function<void()> changed_;
  std::shared_ptr<PathTraffic> traffic_;
};

}  // namespace gms
