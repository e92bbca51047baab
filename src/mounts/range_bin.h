// The bin of a media that plays recorded segments (range_source.h): a
// GstBin that lets its owner order the state changes of the segments'
// sources against the concats they feed.
//
// Why: a bin changes its children in the order of their links, those
// downstream first. A segment's parsebin links its pads to its concat only
// once it runs, so before that it looks like an element with nothing
// downstream, and the bin changes it before the concats:
// - going up, a parsebin can then expose its first file's tracks and push
//   into a concat that is not running yet: the push fails, the demuxer
//   posts an error, and the viewer's DESCRIBE gets 503;
// - going down, a parsebin can be taken down while its demuxer's thread
//   waits inside a concat for its segment's turn: stopping the demuxer
//   waits for that thread for ever (it holds the stream lock stopping
//   needs), and so does the RTSP client thread that ended the session.
// So the owner keeps the sources out of the bin's own changes until the
// rest runs (after_start), and releases the concats' waiting pads before
// any child stops (before_stop).
#pragma once

#include <gst/gst.h>

#include <functional>

namespace gms::mounts {

// A new (floating) range bin.
GstElement* range_bin_new();

// On the thread that changes the bin's state: `after_start` at the end of
// its READY to PAUSED (its children changed; `started`: the change did not
// fail; returning false fails it), `before_stop` at the start of its PAUSED
// to READY (before any child). Set once, before the bin leaves NULL.
void range_bin_set_hooks(GstElement* bin, std::function<bool(bool started)> after_start,
                         std::function<void()> before_stop);

}  // namespace gms::mounts
