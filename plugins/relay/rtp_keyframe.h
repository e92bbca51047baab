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

// Calls fn(nal, size) for each whole NAL unit an H.264 or H.265 packet
// carries: the packet itself (single NAL unit packet) or each unit of an
// aggregation packet (STAP-A, AP), whose sizes are checked against the
// packet. Fragments (FU-A, FU) and other codecs carry no whole unit.
template <typename Fn>
void for_each_nal(Codec codec, const uint8_t* p, size_t n, Fn&& fn) {
  size_t header = codec == Codec::kH264 ? 1 : codec == Codec::kH265 ? 2 : 0;
  if (header == 0 || n < header)
    return;
  uint8_t type = codec == Codec::kH264 ? (p[0] & 0x1f) : ((p[0] >> 1) & 0x3f);
  bool aggregate = codec == Codec::kH264 ? type == 24 : type == 48;
  bool single = codec == Codec::kH264 ? (type >= 1 && type <= 23) : type < 48;
  if (single) {
    fn(p, n);
    return;
  }
  if (!aggregate)
    return;
  size_t off = header;
  while (off + 2 < n) {
    size_t len = (size_t(p[off]) << 8) | p[off + 1];
    off += 2;
    if (len < header || off + len > n)
      break;
    fn(p + off, len);
    off += len;
  }
}

}  // namespace gms::relay
