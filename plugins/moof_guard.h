// A torn fragment header must not cost a fragmented MP4 all its media.
//
// ffmpeg (and every player built on it) reads all the moof boxes of a
// fragmented MP4 that has no fragment index (a file still being written,
// or cut by a crash) when it opens it, and refuses the whole file when the
// last one is cut short, as a write torn by a crash or a full disk leaves
// it: the segment's seconds lost for a few hundred bytes. So each moof
// goes to the file typed "free", a box every reader skips, and is typed
// "moof" again (its four type bytes rewritten in place, through the sink's
// byte seek, as mp4mux rewrites its own header) once it is whole in the
// file and before the media it describes. A cut anywhere then leaves whole
// fragments, a skipped box, or a fragment whose media is cut short, which
// readers play up to the cut.
//
// Only the muxer's streaming thread uses a guard (no lock).
#pragma once

#include <gst/gst.h>

#include <cstddef>
#include <cstdint>
#include <optional>

namespace gms {

class MoofGuard {
 public:
  // Guards what `mux` (mp4mux, linked to `sink`, a filesink) writes: adds a
  // probe on the muxer's source pad that owns a new guard. Before data
  // flows.
  static void attach(GstElement* mux, GstElement* sink);

  // The bookkeeping, by file offsets (no GStreamer in it).
  struct Before {
    std::optional<uint64_t> retype_at;  // first: type the moof there "moof" again
    bool hide = false;                  // this buffer is a whole moof: write it as "free"
  };
  // A buffer of `size` bytes beginning with `head` (`head_size` of them) is
  // about to be written at the current position.
  Before buffer(const uint8_t* head, size_t head_size, uint64_t size);
  // The writer moves to `to` (a byte segment), or ends: the retype that is
  // still due, if any.
  std::optional<uint64_t> seek(uint64_t to);
  std::optional<uint64_t> end();

 private:
  static GstPadProbeReturn probe(GstPad* pad, GstPadProbeInfo* info, gpointer self) noexcept;
  // Writes "moof" at `at` through the sink, then returns it to `resume`.
  static bool retype(GstPad* sink, uint64_t at, uint64_t resume);

  uint64_t pos_ = 0;                  // where the next buffer goes
  std::optional<uint64_t> pending_;   // a hidden moof's type bytes
};

}  // namespace gms
