#include "relay/rtp_keyframe.h"

#include <algorithm>
#include <cctype>

namespace gms::relay {
namespace {

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

// H.264 NAL unit types: 5 IDR slice, 7 SPS, 8 PPS; 24 STAP-A, 28 FU-A.
void h264_nal(uint8_t type, KeyInfo& k) {
  if (type == 5)
    k.key = true;
  if (type == 7 || type == 8)
    k.parameter_sets = true;
  if (type == 7)
    k.key = true;
}

KeyInfo inspect_h264(const uint8_t* p, size_t n) {
  KeyInfo k;
  for_each_nal(Codec::kH264, p, n, [&](const uint8_t* nal, size_t) { h264_nal(nal[0] & 0x1f, k); });
  if (n >= 2 && (p[0] & 0x1f) == 28 && (p[1] & 0x80))  // FU-A: only the first fragment starts
    h264_nal(p[1] & 0x1f, k);
  return k;
}

// H.265: IRAP pictures are types 16–21; 32 VPS, 33 SPS, 34 PPS; 48 AP, 49 FU.
void h265_nal(uint8_t type, KeyInfo& k) {
  if (type >= 16 && type <= 21)
    k.key = true;
  if (type >= 32 && type <= 34) {
    k.parameter_sets = true;
    k.key = true;
  }
}

KeyInfo inspect_h265(const uint8_t* p, size_t n) {
  KeyInfo k;
  for_each_nal(Codec::kH265, p, n,
               [&](const uint8_t* nal, size_t) { h265_nal((nal[0] >> 1) & 0x3f, k); });
  if (n >= 3 && ((p[0] >> 1) & 0x3f) == 49 && (p[2] & 0x80))  // FU: first fragment
    h265_nal(p[2] & 0x3f, k);
  return k;
}

// RFC 7741 payload descriptor, then the VP8 frame tag (P bit 0 = key frame).
KeyInfo inspect_vp8(const uint8_t* p, size_t n) {
  KeyInfo k;
  if (n < 1)
    return k;
  bool x = p[0] & 0x80, s = p[0] & 0x10;
  uint8_t pid = p[0] & 0x07;
  size_t off = 1;
  if (x) {
    if (n < 2)
      return k;
    uint8_t ext = p[1];
    off = 2;
    if (ext & 0x80) {  // picture id, 7 or 15 bits
      if (off >= n)
        return k;
      off += (p[off] & 0x80) ? 2 : 1;
    }
    if (ext & 0x40)
      off += 1;  // TL0PICIDX
    if (ext & 0x30)
      off += 1;  // TID/KEYIDX
  }
  if (!s || pid != 0 || off >= n)
    return k;
  k.key = (p[off] & 0x01) == 0;
  return k;
}

// RFC draft VP9 descriptor: B (start of frame) set and P (inter-predicted) clear.
KeyInfo inspect_vp9(const uint8_t* p, size_t n) {
  KeyInfo k;
  if (n < 1)
    return k;
  k.key = (p[0] & 0x08) && !(p[0] & 0x40);
  return k;
}

// RFC 2435: every JPEG frame stands alone; fragment offset 0 starts one.
KeyInfo inspect_jpeg(const uint8_t* p, size_t n) {
  KeyInfo k;
  if (n < 4)
    return k;
  k.key = p[1] == 0 && p[2] == 0 && p[3] == 0;
  return k;
}

}  // namespace

Codec codec_from_encoding(const std::string& encoding_name, const std::string& media) {
  std::string e = upper(encoding_name);
  if (e == "H264")
    return Codec::kH264;
  if (e == "H265")
    return Codec::kH265;
  if (e == "VP8")
    return Codec::kVp8;
  if (e == "VP9")
    return Codec::kVp9;
  if (e == "JPEG")
    return Codec::kJpeg;
  if (media == "audio")
    return Codec::kAudio;
  return Codec::kUnknown;
}

KeyInfo inspect_payload(Codec codec, const uint8_t* payload, size_t size) {
  switch (codec) {
    case Codec::kH264:
      return inspect_h264(payload, size);
    case Codec::kH265:
      return inspect_h265(payload, size);
    case Codec::kVp8:
      return inspect_vp8(payload, size);
    case Codec::kVp9:
      return inspect_vp9(payload, size);
    case Codec::kJpeg:
      return inspect_jpeg(payload, size);
    case Codec::kAudio:
    case Codec::kUnknown:
      break;
  }
  return {true, false};
}

}  // namespace gms::relay
