// The first request of a connection, checked by the front door before
// gst-rtsp-server 1.22 parses it. The library cuts lines at 4095 bytes and
// acts on what is left, closes the connection without a word on a version
// it cannot read or an HTTP verb other than the tunnel's GET and POST, and
// closes it after its 400 for a missing or unreadable CSeq. Here such a
// request gets its status, and the connection goes on with the next one
// unless the rest of its bytes cannot be trusted (a cut line, a body).
// A Content-Length that is not one plain number (`abc`, `-1`, two
// different values) leaves the end of the body unknown: 400 and close; a
// body over `max_body` is refused (413) before any of it is read.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gms {

struct FirstRequestRefusal {
  std::string reply;     // the whole answer, ready to send
  size_t consumed = 0;   // bytes of the refused request (its head)
  bool close = false;    // end the connection after the answer
};

// `buffer` holds at least one whole head (up to its empty line).
std::optional<FirstRequestRefusal> check_first_request(std::string_view buffer, size_t max_body);

// The bytes of the first request in `buffer`, its body included, once
// check_first_request() took its head: the front door hands the connection
// over only when they are all there, within its deadline (the library would
// wait for a missing body as long as the connection stays open). An HTTP
// tunnel's body is a stream: its head alone.
size_t first_request_size(std::string_view buffer);

}  // namespace gms
