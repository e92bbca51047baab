// Source: what feeds a live path's relay channels, one implementation per
// kind (launch line, proxy, publisher). The Path and the server know
// sources only through this interface; only the sources and the
// configuration know the kinds.
#pragma once

#include <gst/gst.h>

#include <functional>
#include <string>
#include <vector>

#include "gms/ref.h"

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

  // Called on the control context whenever ready_channels() may have
  // changed (source ready, lost, back). One subscriber: its Path.
  void on_change(std::function<void()> fn) { changed_ = std::move(fn); }

 protected:
  void changed() const {
    if (changed_)
      changed_();
  }

 private:
  std::function<void()> changed_;
};

}  // namespace gms
