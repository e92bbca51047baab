// The CSeq of a request read by the front door, for the answers it gives
// itself (400, 431, 503) before gst-rtsp-server sees the connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace gms {

// The number of the request's first `CSeq:` header line (name in any case,
// lines ended by CRLF or a bare LF), when it is a plain decimal number of at
// most nine digits; nothing otherwise. Only the number is ever echoed: the
// rest of the line is the client's and may hide other header lines.
std::optional<uint32_t> request_cseq(std::string_view request);

// The same rule for the value of one CSeq header (blanks around it allowed).
std::optional<uint32_t> parse_cseq_value(std::string_view value);

}  // namespace gms
