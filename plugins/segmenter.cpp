#include "segmenter.h"

#include <algorithm>

namespace gms {

Segmenter::TrackId Segmenter::add_track(bool video) {
  const TrackId id = next_track_++;
  tracks_[id].video = video;
  return id;
}

void Segmenter::remove_track(TrackId id) { tracks_.erase(id); }

void Segmenter::set_live(bool live) {
  live_known_ = true;
  live_ = live;
}

Segmenter::File* Segmenter::find(FileId id) {
  auto it = std::find_if(files_.begin(), files_.end(), [&](const File& f) { return f.id == id; });
  return it == files_.end() ? nullptr : &*it;
}

const Segmenter::File* Segmenter::find(FileId id) const {
  auto it = std::find_if(files_.begin(), files_.end(), [&](const File& f) { return f.id == id; });
  return it == files_.end() ? nullptr : &*it;
}

std::optional<gint64> Segmenter::wall_of_start(const Input& in) {
  if (!in.wall_ns)
    return std::nullopt;
  // The meta dates the frame shown at `rt`; a file it opens starts at its
  // decoding time.
  return gint64(*in.wall_ns / GST_USECOND) - gint64((in.rt - in.start_rt) / GST_USECOND);
}

// Each track's running times come from its own jitterbuffer, anchored at
// its first packet's arrival, and a reader that starts with a relay's cache
// gets the video's cached GOP (up to a GOP old) and the audio's last packet
// at once: without this the video ran late against the audio by the GOP's
// age in every file of the run. A track's running time r was live at its
// wall_of_zero + r, so on the run's timeline (that of the track that opened
// the first file) it is r + (wall_of_zero - run_wall_of_zero). Without metas
// nothing moves. False if the buffer falls before the run's 0.
bool Segmenter::align(Track& t, std::optional<GstClockTimeDiff> run_wall_of_zero, const Input& in,
                      GstClockTime& rt, GstClockTime& start_rt) {
  t.shift = t.wall_of_zero && run_wall_of_zero ? *t.wall_of_zero - *run_wall_of_zero : 0;
  if (GstClockTimeDiff(in.start_rt) + t.shift < 0)
    return false;
  rt = GstClockTime(GstClockTimeDiff(in.rt) + t.shift);
  start_rt = GstClockTime(GstClockTimeDiff(in.start_rt) + t.shift);
  return true;
}

// The video track cuts at key frames; without video the first audio track
// cuts on time; the others follow. Only tracks in the files (they have
// sent) count.
bool Segmenter::decides(TrackId id) const {
  bool has_video = false;
  std::optional<TrackId> first_audio;
  for (const auto& [oid, o] : tracks_) {
    if (!o.seen)
      continue;
    has_video |= o.video;
    if (!o.video && !first_audio)
      first_audio = oid;
  }
  const Track& t = tracks_.at(id);
  return t.video || (!has_video && first_audio == id);
}

// Live input: how late a buffer of running time `rt` reached us. The
// smallest lateness since the last file start is the best guess at when
// media of a running time was captured: a frame sent on at once (a live
// one) is on time, one held somewhere (a relay's cached GOP sent in a
// burst, a jitterbuffer's first packet) is late.
void Segmenter::note_lateness(GstClockTime clock_rt, GstClockTime rt) {
  if (!GST_CLOCK_TIME_IS_VALID(clock_rt))
    return;
  const GstClockTimeDiff late = GstClockTimeDiff(clock_rt) - GstClockTimeDiff(rt);
  if (!have_lateness_ || late < min_lateness_) {
    min_lateness_ = late;
    have_lateness_ = true;
  }
}

// Wall clock (µs since the epoch) of running time `rt`. A meta says when
// the opening frame was live: exact even for a cached GOP that came in one
// burst. Else, live input: the pipeline clock maps running time to wall
// clock, less the smallest lateness seen. Else (a file read as fast as it
// goes) the running time since the last file start is added to that start's
// wall clock, so names are spaced by the media's duration. Either way the
// next file is placed by the lateness seen over this one: a source clock
// that drifts against ours, or a jump in its timestamps, does not stay in
// the names for ever.
gint64 Segmenter::wall_clock_of(GstClockTime rt, GstClockTime clock_rt, gint64 now_us,
                                std::optional<gint64> ref_wall) {
  gint64 wall = now_us;
  if (ref_wall) {
    wall = *ref_wall;
    have_lateness_ = false;
  } else if (live_ && GST_CLOCK_TIME_IS_VALID(clock_rt) && have_lateness_) {
    const gint64 wall_of_zero = now_us - GstClockTimeDiff(clock_rt) / GST_USECOND;
    wall = wall_of_zero + (GstClockTimeDiff(rt) + min_lateness_) / GST_USECOND;
    have_lateness_ = false;
  } else if (GST_CLOCK_TIME_IS_VALID(anchor_rt_)) {
    wall = anchor_wall_ + (GstClockTimeDiff(rt) - GstClockTimeDiff(anchor_rt_)) / GST_USECOND;
  }
  anchor_rt_ = rt;
  anchor_wall_ = wall;
  return wall;
}

// May the buffer at `start_rt` open the first file? Live: the video's first
// key frame does (the audio's first buffers come a few ms before or after
// it). Not live: whichever comes first (an encoder may take its time with
// the first frame while the audio runs ahead). Keeps the first such buffer
// as the opener. `awaited`: a video track that has sent nothing yet counts
// (the tracks are still awaited); after the wait, only one that has sent.
void Segmenter::note_opener(const Track& t, GstClockTime start_rt, std::optional<gint64> wall_us, bool awaited) {
  if (opener_)
    return;
  const bool has_video = std::any_of(tracks_.begin(), tracks_.end(), [&](const auto& o) {
    return o.second.video && (o.second.seen || (awaited && !o.second.eos));
  });
  if (has_video && !t.video && live_)
    return;
  opener_ = Opener{start_rt, wall_us, t.wall_of_zero};
}

bool Segmenter::all_seen() const {
  return std::all_of(tracks_.begin(), tracks_.end(),
                     [](const auto& o) { return o.second.seen || o.second.eos || o.second.flushing; });
}

// A file has the tracks that have sent a buffer and still run: every muxer
// waits for data on each of its pads. A track that starts later joins at
// the next cut.
Segmenter::Opened Segmenter::open(GstClockTime origin, GstClockTime clock_rt, gint64 now_us,
                                  std::optional<gint64> ref_wall) {
  Opened o;
  o.id = next_file_++;
  o.origin = origin;
  o.wall_us = wall_clock_of(origin, clock_rt, now_us, ref_wall);
  for (const auto& [id, t] : tracks_)
    if (t.seen && !t.eos)
      o.tracks.push_back(id);
  files_.push_back(File{o.id, origin, GST_CLOCK_TIME_NONE});
  current_ = o.id;
  return o;
}

// The first file of a run waits for every track's first buffer, up to the
// track wait from the run's first buffer: one that never sends (audio a
// publisher announced and does not send) must not keep every muxer
// waiting, nor the path from recording. The tracks that have sent wait
// meanwhile (in their queues): each track's buffers are only ever pushed by
// its own thread, as a muxer may block a push until the others have data.
Segmenter::Decision Segmenter::first_file(Track& t, const Input& in) {
  Decision d;
  // No shift before the first file: running times are the track's own.
  note_opener(t, in.start_rt, wall_of_start(in), true);
  if (!wait_deadline_)
    wait_deadline_ = in.now + track_wait_;
  if (!stopping_ && !t.flushing && !all_seen() && in.now < *wait_deadline_) {
    d.verdict = Verdict::kWait;
    d.wait_until = *wait_deadline_;
    return d;
  }
  if (stopping_ || t.flushing)
    return d;
  note_opener(t, in.start_rt, wall_of_start(in), false);
  if (!opener_)
    return d;  // live audio before the video's first key frame
  run_wall_of_zero_ = opener_->wall_of_zero;
  // The clock now, not at the buffer's arrival: it maps running time to
  // wall clock now (the wait is not lateness).
  d.opened = open(opener_->start_rt, live_ ? in.clock_rt : GST_CLOCK_TIME_NONE, in.now_us, opener_->wall_us);
  opener_.reset();
  d.wake = true;
  d.verdict = Verdict::kWrite;
  return d;
}

// Track `id` in every file older than `than` (all when none): it has moved
// on (or ended), and a muxer finishes once all its tracks have ended. `own`:
// the track's thread asks, so the file it wrote to last is ended too.
std::vector<Segmenter::End> Segmenter::ends_before(TrackId id, std::optional<FileId> than, bool own) {
  std::vector<End> ends;
  bool last_in = false;
  const Track& t = tracks_.at(id);
  for (const auto& f : files_) {
    if (than && f.id == *than)
      break;
    ends.push_back(End{id, f.id, own});
    last_in |= t.last && *t.last == f.id;
  }
  if (own && t.last && t.last != than && !last_in)
    ends.push_back(End{id, *t.last, own});
  return ends;
}

Segmenter::Decision Segmenter::push(TrackId id, const Input& in) {
  Decision d;
  auto it = tracks_.find(id);
  if (it == tracks_.end())
    return d;
  Track& t = it->second;
  // Any buffer counts, a video frame before the first key frame too: the
  // track is sending, and its key frame is coming.
  if (!t.seen) {
    t.seen = true;
    d.wake = true;
  }
  if (t.video && t.need_key && !in.key)
    return d;
  if (!t.wall_of_zero && in.wall_ns)
    t.wall_of_zero = GstClockTimeDiff(*in.wall_ns) - GstClockTimeDiff(in.rt);
  GstClockTime rt = in.rt, start_rt = in.start_rt;
  if (!align(t, run_wall_of_zero_, in, rt, start_rt))
    return d;  // before the run's first file
  const bool decider = decides(id);
  if (live_ && (decider || !current_))
    note_lateness(in.clock_rt, rt);

  std::optional<FileId> target, cut_from;
  if (!current_) {
    const bool wake = d.wake;
    d = first_file(t, in);
    d.wake |= wake;
    if (d.verdict != Verdict::kWrite || !align(t, run_wall_of_zero_, in, rt, start_rt)) {
      if (d.verdict == Verdict::kWrite)
        d.verdict = Verdict::kDrop;  // the file stays: another track opened it for the run
      return d;
    }
    target = current_;
  } else if (decider) {
    File* cur = find(*current_);
    const bool due = segment_duration_ > 0 && rt >= cur->origin + segment_duration_;
    if (due && (in.key || !t.video)) {
      cur->end = rt;
      cut_from = cur->id;
      d.opened = open(start_rt, in.clock_rt, in.now_us, wall_of_start(in));
      d.wake = true;
    } else if (due && !t.key_requested) {
      t.key_requested = true;
      d.request_key = true;
    }
    target = current_;
  } else {
    // The newest file that started at or before this buffer.
    for (auto f = files_.rbegin(); f != files_.rend(); ++f)
      if (f->origin <= rt) {
        target = f->id;
        break;
      }
  }
  // Never back into an older file.
  if (target && t.last && *target != *t.last) {
    const File* tf = find(*target);
    const File* lf = find(*t.last);
    if (tf && lf && tf->origin < lf->origin)
      target = t.last;
  }
  File* file = target ? find(*target) : nullptr;
  if (!file) {
    d.verdict = Verdict::kDrop;
    return d;
  }
  if (rt < file->origin) {
    // Before the file began (a video frame before the audio that opened the
    // first file): video waits for its next key frame.
    t.need_key = t.video;
    d.verdict = Verdict::kDrop;
    return d;
  }
  if (t.video)
    t.need_key = false;
  if (d.opened)
    t.key_requested = false;
  if (cut_from) {
    // A track that sent nothing since the file before the last cut (audio
    // that stopped) is ended there, so that file can finish. A track busy
    // pushing ends its older files itself.
    for (const auto& [oid, o] : tracks_)
      if (oid != id)
        for (const End& e : ends_before(oid, cut_from, false))
          d.ends.push_back(e);
  }
  if (t.last != target) {
    for (const End& e : ends_before(id, target, true))
      d.ends.push_back(e);
    t.last = target;
  }
  file->end = rt;
  d.verdict = Verdict::kWrite;
  d.file = file->id;
  d.rt = rt;
  d.shift = t.shift;
  d.origin = file->origin;
  return d;
}

std::vector<Segmenter::End> Segmenter::end_of_stream(TrackId id) {
  auto it = tracks_.find(id);
  if (it == tracks_.end())
    return {};
  it->second.eos = true;
  return ends_before(id, std::nullopt, true);
}

void Segmenter::set_flushing(TrackId id, bool flushing) {
  if (auto it = tracks_.find(id); it != tracks_.end())
    it->second.flushing = flushing;
}

void Segmenter::finished(FileId id) {
  std::erase_if(files_, [&](const File& f) { return f.id == id; });
  if (current_ == id)
    current_.reset();
}

bool Segmenter::all_tracks_ended() const {
  return std::all_of(tracks_.begin(), tracks_.end(), [](const auto& o) { return o.second.eos; });
}

bool Segmenter::all_done() const { return !tracks_.empty() && all_tracks_ended() && files_.empty(); }

GstClockTime Segmenter::file_end(FileId id) const {
  const File* f = find(id);
  return f ? f->end : GST_CLOCK_TIME_NONE;
}

void Segmenter::reset() {
  for (auto& [id, t] : tracks_) {
    const bool video = t.video;
    t = Track();
    t.video = video;
  }
  files_.clear();
  current_.reset();
  anchor_rt_ = GST_CLOCK_TIME_NONE;
  anchor_wall_ = 0;
  live_known_ = live_ = have_lateness_ = false;
  min_lateness_ = 0;
  opener_.reset();
  run_wall_of_zero_.reset();
  wait_deadline_.reset();
}

}  // namespace gms
