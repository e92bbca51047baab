// The text of a publisher's SDP, line by line, before GStreamer's parser
// reads it. That parser takes numbers with atoi(): an m= port of
// 99999999999 or a b= bandwidth of -1 come out as some other number and are
// accepted, and it takes lines of any length. Here a port must be a port
// (0-65535, with an optional "/count" of at most 65535), a bandwidth a
// plain number of at most 9 digits (kbit/s), and no line may be longer than
// kLongestSdpLine: real SDPs have lines of a few hundred bytes, while every
// attribute is copied into caps and into the SDP each viewer gets.
#pragma once

#include <string>
#include <string_view>

namespace gms::mounts {

inline constexpr size_t kLongestSdpLine = 4096;

// Empty when the text is acceptable; otherwise why not.
std::string sdp_text_problem(std::string_view text);

}  // namespace gms::mounts
