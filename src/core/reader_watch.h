// Follows a client's readers for their paths' figures: at the first PLAY of
// a session media the reader joins the path its media counts as (its
// PathTraffic, by transport, with the media's relay readers for its bytes
// out); when that session media goes (TEARDOWN, session timeout, the
// connection of a TCP reader closing) it leaves. Publishers (RECORD) are
// not readers.
#pragma once

#include <gst/rtsp-server/rtsp-client.h>

#include <functional>
#include <memory>
#include <string>

#include "path/traffic_board.h"

namespace gms {

class ClientSignals;

// Called on an RTSP client thread (join) or wherever the session media is
// finalized (leave): must not block.
using ReaderNotify = std::function<void(const std::string& path, bool joined, ReaderTransport t)>;

// What every client runs: a PLAY joins its session media to its path.
void add_reader_watch(ClientSignals& signals, std::shared_ptr<TrafficBoard> board,
                      ReaderNotify notify);

}  // namespace gms
