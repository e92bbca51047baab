// Requests that gst-rtsp-server 1.22 parses wrongly, caught after its
// parser and before it acts, on connections past their first request (the
// front door reads the first one itself).
//
// The library cuts every line at 4095 bytes and goes on with what is left:
// a 1 MB header becomes a 4 KB one, and `Session: <id>;<1 MB>` becomes the
// session <id>. A line that long is never a real client's, so a request
// with a value near the cut is refused (414 for the URI, 431 for a header)
// and its connection closed, since the rest of its bytes were dropped.
// It also takes the first of several CSeq headers and any number strtoll
// reads a prefix of ("1e9"): 400 here, the connection going on. An unknown
// method gets the library's 400; 501 with Public here.
#pragma once

#include <gst/rtsp-server/rtsp-client.h>

namespace gms {

class ClientSignals;

// Longer than any real request line or header, shorter than the cut.
constexpr size_t kLongestLine = 4000;

// The status a request must get instead of being handled (OK: handle it).
GstRTSPStatusCode request_problem(const GstRTSPMessage* request);

// Adds the checks every client runs: its pre-request signals refuse what
// request_problem() names, and its replies are corrected (status, CSeq)
// before they go out. A refused oversized request ends the connection once
// its reply is out.
void add_request_checks(ClientSignals& signals);

// An RTSP request (any method) has come through `client` since it connected.
bool client_had_request(GstRTSPClient* client);

}  // namespace gms
