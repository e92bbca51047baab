// Where a decodable picture starts, read from one RTP packet's payload, per
// codec. The relay's GOP cache starts at such a packet so that a new viewer's
// first picture decodes without waiting for the publisher's next key frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace gms::relay {

enum class Codec {
  kH264,
  kH265,
  kVp8,
  kVp9,
  kJpeg,
  kAudio,    // every packet can start playback
  kUnknown,  // no key frame knowledge: every packet counts as a start
};

// From the caps' encoding-name and media ("H264", "video").
Codec codec_from_encoding(const std::string& encoding_name, const std::string& media);

struct KeyInfo {
  bool key = false;             // this packet carries the start of a key frame
  bool parameter_sets = false;  // it carries SPS/PPS/VPS (H.264/H.265)
};

// `payload` is the RTP payload (after header, CSRCs and extension).
KeyInfo inspect_payload(Codec codec, const uint8_t* payload, size_t size);

}  // namespace gms::relay
