// PathTraffic: what flows through one live path, counted by the plugin's
// elements and read through their properties only: msstats in front of each
// track's relay sink (bytes in, frames, key frames, gaps, bitrate, last
// activity) and the msrelaysrc elements of each reader's media (bytes out).
// Readers are counted here as they join and leave, by transport, so that
// nobody walks the session pool to ask.
//
// Thread-safe: taps come from streaming and RTSP client threads, readers
// from client threads and session finalizers, reads from the control
// context. One mutex; it is taken last (nothing is called with it held but
// property reads of the elements, which take only their own locks).
#pragma once

#include <gst/gst.h>

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "gms/ref.h"

namespace gms {

enum class ReaderTransport { kUdp, kUdpMulticast, kTcp };
constexpr size_t kReaderTransports = 3;
// "udp", "udp-multicast", "tcp".
const char* transport_name(ReaderTransport t);

struct TrafficFigures {
  uint64_t bytes_in = 0;   // RTP bytes from the source, every run of it
  uint64_t bytes_out = 0;  // RTP bytes sent to readers, summed over readers
  uint64_t packets_in = 0;
  uint64_t frames = 0;     // RTP packets with the marker bit
  uint64_t key_frames = 0;
  uint64_t gaps = 0;
  uint64_t lost = 0;       // packets missing by RTP sequence number
  double bitrate_bps = 0;  // over the last second, tracks summed; 0 when idle
  gint64 last_activity_us = 0;  // wall clock of the last packet in; 0: none
  std::array<unsigned, kReaderTransports> readers{};
  unsigned readers_total() const { return readers[0] + readers[1] + readers[2]; }
};

class PathTraffic {
 public:
  // `stats` (an msstats element) measures track `index` from now on; what
  // the one it replaces measured stays counted (a source run that ended, a
  // publisher that left).
  void tap(unsigned index, GstElement* stats);
  // A new msstats element (from the registry) tapped for track `index`;
  // null when the plugin's element is missing.
  Ref<GstElement> make_tap(unsigned index);

  // A reader played: `key` names it until it leaves (its session media);
  // `relay_srcs` are its media's msrelaysrc elements: what they pushed
  // beyond `base` bytes is what it received. False if `key` is known
  // already.
  bool reader_joined(const void* key, ReaderTransport t, std::vector<Ref<GstElement>> relay_srcs,
                     uint64_t base = 0);
  // The bytes `relay_srcs` (msrelaysrc elements) pushed so far.
  static uint64_t pushed_bytes(const std::vector<Ref<GstElement>>& relay_srcs);
  // False when `key` never joined.
  bool reader_left(const void* key);

  TrafficFigures figures() const;

 private:
  struct Reader {
    ReaderTransport transport;
    std::vector<Ref<GstElement>> srcs;
    uint64_t base = 0;  // their pushed bytes when it joined
  };
  struct Track {
    Ref<GstElement> stats;
    TrafficFigures before;  // what earlier elements of this track counted
  };
  mutable std::mutex lock_;  // protects everything below; taken last
  std::vector<Track> tracks_;
  std::map<const void*, Reader> readers_;
  uint64_t bytes_out_left_ = 0;  // of readers that left
};

}  // namespace gms
