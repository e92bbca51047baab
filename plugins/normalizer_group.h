// NormalizerGroup: one shared Normalizer timeline per name, for all tracks of
// one source, across elements and streaming threads (PipeWire's core table
// shape: a name-keyed, refcounted registry).
//
//   auto group = gms::NormalizerGroup::acquire("cam1");   // any thread
//   gms::NormalizerTrack video(group), audio(group);       // one per track
//   gms::Decision d = video.push(in, settings);             // streaming thread
//
// A group lives as long as someone holds its shared_ptr: every msnormalize
// element with group=NAME holds it between READY->PAUSED and PAUSED->READY.
// Code that rebuilds a source pipeline (proxy reconnect) and wants the output
// timeline to continue across the rebuild keeps its own acquire() handle for
// the lifetime of the path; otherwise the timeline starts afresh when the
// last element of the group stops.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "normalizer.h"

namespace gms {

class NormalizerGroup {
 public:
  // The group called `name`, created on first use. An empty name gives a new
  // private group that nobody else can find. Thread-safe.
  static std::shared_ptr<NormalizerGroup> acquire(const std::string& name);
  // Groups currently alive under a name (for tests and diagnostics).
  static size_t registered_count();

  const std::string& name() const { return name_; }

  // Thread-safe wrappers: each locks the group mutex for the computation only.
  Normalizer::TrackId add_track();
  void remove_track(Normalizer::TrackId id);
  Decision push(Normalizer::TrackId id, const TimestampIn& in, const NormalizerSettings& s,
                const RtpIn* rtp = nullptr);
  void flush(Normalizer::TrackId id, bool reset_time);
  GstClockTime peek(Normalizer::TrackId id, GstClockTime in) const;
  GstClockTime to_input(Normalizer::TrackId id, GstClockTime out) const;
  guint64 reanchors() const;

  explicit NormalizerGroup(std::string name) : name_(std::move(name)) {}
  NormalizerGroup(const NormalizerGroup&) = delete;
  NormalizerGroup& operator=(const NormalizerGroup&) = delete;

 private:
  const std::string name_;
  mutable std::mutex mutex_;  // protects normalizer_; never held while pushing or posting
  Normalizer normalizer_;
};

// One track of a group, removed from it on destruction. push() and flush()
// from one streaming thread at a time.
class NormalizerTrack {
 public:
  explicit NormalizerTrack(std::shared_ptr<NormalizerGroup> group)
      : group_(std::move(group)), id_(group_->add_track()) {}
  ~NormalizerTrack() { group_->remove_track(id_); }
  NormalizerTrack(const NormalizerTrack&) = delete;
  NormalizerTrack& operator=(const NormalizerTrack&) = delete;

  Decision push(const TimestampIn& in, const NormalizerSettings& s, const RtpIn* rtp = nullptr) {
    return group_->push(id_, in, s, rtp);
  }
  void flush(bool reset_time) { group_->flush(id_, reset_time); }
  GstClockTime peek(GstClockTime in) const { return group_->peek(id_, in); }
  GstClockTime to_input(GstClockTime out) const { return group_->to_input(id_, out); }
  NormalizerGroup& group() const { return *group_; }

 private:
  std::shared_ptr<NormalizerGroup> group_;
  Normalizer::TrackId id_;
};

}  // namespace gms
