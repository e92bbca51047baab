// What the API and the log say about one RTSP session: plain values.
#pragma once

#include <glib.h>

#include <cstdint>
#include <optional>
#include <string>

namespace gms::session {

struct Figures {
  // Viewers: what the server sent (RTP); publishers: what it received.
  std::optional<uint64_t> bytes_sent, packets_sent;
  std::optional<uint64_t> bytes_received, packets_received;
  // From the client's RTCP receiver reports (viewers): the highest fraction
  // lost of its tracks (0…1) and the sum of their cumulative losses.
  std::optional<double> fraction_lost;
  std::optional<int64_t> cumulative_lost;
};

struct Info {
  std::string id;         // the RTSP session id
  std::string path;       // the served path ("/live/cam1"); empty before SETUP
  std::string remote;     // "127.0.0.1:40312"
  std::optional<std::string> user;  // null until users exist
  std::string transport;  // udp, udp-multicast, tcp, http-tunnel ("" before SETUP)
  std::string role;       // viewer, publisher ("" before PLAY or RECORD)
  gint64 started_us = 0;  // wall clock, when the session was made
  Figures figures;
};

}  // namespace gms::session
