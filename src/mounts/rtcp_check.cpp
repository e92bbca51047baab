#include "mounts/rtcp_check.h"

#include <algorithm>

namespace gms::mounts {
namespace {

enum : uint8_t {
  kSr = 200,
  kRr = 201,
  kSdes = 202,
  kBye = 203,
  kApp = 204,
  kRtpFeedback = 205,
  kPsFeedback = 206,
};
constexpr uint8_t kSdesPriv = 8;
constexpr uint8_t kTransportWideCc = 15;

// `p` is one packet of `size` bytes (header included, padding excluded) and
// `count` chunks: each an SSRC, items (type, length, data) and a zero
// type that ends the list, the next chunk at the next 32-bit word.
bool sdes_is_sound(const uint8_t* p, size_t size, unsigned count) {
  size_t at = 4;
  for (unsigned c = 0; c < count; ++c) {
    if (at + 4 > size)
      return false;
    at += 4;
    for (;;) {
      if (at >= size)
        return false;  // the list does not end
      if (p[at] == 0) {
        at = (at + 4) & ~size_t(3);
        break;
      }
      if (at + 2 > size)
        return false;
      const size_t len = p[at + 1];
      if (at + 2 + len > size)
        return false;
      if (p[at] == kSdesPriv && (len == 0 || size_t(p[at + 2]) + 1 > len))
        return false;  // a prefix longer than its item
      at += 2 + len;
    }
  }
  return at <= size;
}

bool bye_is_sound(const uint8_t* p, size_t size, unsigned count) {
  const size_t reason = 4 + 4 * size_t(count);
  if (reason > size)
    return false;
  return reason == size || reason + 1 + p[reason] <= size;
}

// One packet, its padding taken off.
bool packet_is_sound(const uint8_t* p, size_t size) {
  const unsigned count = p[0] & 0x1f;
  switch (p[1]) {
    case kSr:
      return size >= 28 + 24 * size_t(count);
    case kRr:
      return size >= 8 + 24 * size_t(count);
    case kSdes:
      return sdes_is_sound(p, size, count);
    case kBye:
      return bye_is_sound(p, size, count);
    case kApp:
      return size >= 12;
    case kRtpFeedback:
      return size >= 12 && count != kTransportWideCc;
    case kPsFeedback:
      return size >= 12;
    default:
      return true;  // the session ignores the others
  }
}

uint32_t read32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

// The SSRC of each chunk of a sound SDES packet.
void sdes_sources(const uint8_t* p, size_t size, unsigned count, std::vector<uint32_t>& out) {
  size_t at = 4;
  for (unsigned c = 0; c < count && at + 4 <= size; ++c) {
    out.push_back(read32(p + at));
    at += 4;
    while (at + 1 < size && p[at] != 0)
      at += 2 + p[at + 1];
    at = (at + 4) & ~size_t(3);
  }
}

}  // namespace

void rtcp_sources(const uint8_t* data, size_t size, std::vector<uint32_t>& out) {
  while (size >= 8) {
    const size_t length = std::min(size, (size_t((data[2] << 8) | data[3]) + 1) * 4);
    if (data[1] == kSr || data[1] == kRr)
      out.push_back(read32(data + 4));
    else if (data[1] == kSdes)
      sdes_sources(data, length, data[0] & 0x1f, out);
    data += length;
    size -= length;
  }
}

bool rtcp_is_sound(const uint8_t* data, size_t size) {
  if (size < 4)
    return false;
  while (size > 0) {
    if (size < 4 || (data[0] >> 6) != 2)
      return false;
    const size_t length = (size_t((data[2] << 8) | data[3]) + 1) * 4;
    if (length > size)
      return false;
    size_t used = length;
    if (data[0] & 0x20) {  // padding: only in the last packet
      const uint8_t pad = data[length - 1];
      if (length != size || pad == 0 || pad > length - 4)
        return false;
      used -= pad;
    }
    if (!packet_is_sound(data, used))
      return false;
    data += length;
    size -= length;
  }
  return true;
}

}  // namespace gms::mounts
