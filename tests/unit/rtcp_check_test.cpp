// The check every RTCP compound passes before an RTP session parses it:
// sound reports of every kind are taken, each malformed shape of the fault
// suite is refused.
#include <gtest/gtest.h>

#include <string>

#include "mounts/rtcp_check.h"
#include "rtcp_packets.h"

namespace gms {
namespace {

bool sound(const std::string& p) {
  return mounts::rtcp_is_sound(reinterpret_cast<const uint8_t*>(p.data()), p.size());
}

// Sets the length field of the packet at `at` to fit `p`'s end.
std::string fit(std::string p, size_t at = 0) {
  const size_t words = (p.size() - at) / 4 - 1;
  p[at + 2] = char(words >> 8);
  p[at + 3] = char(words & 0xff);
  return p;
}

TEST(RtcpCheck, SoundCompoundsAreTaken) {
  const std::string rr_sdes = test::rtcp_rr_sdes(0x11223344);
  EXPECT_TRUE(sound(rr_sdes));
  // A sender report with two report blocks, then the SDES.
  EXPECT_TRUE(sound(test::rtcp_packet(2, 200, 6 + 12) + rr_sdes.substr(8)));
  // A receiver report with a block and a profile extension word.
  EXPECT_TRUE(sound(test::rtcp_rr(1, 1 + 6 + 1)));
  // BYE of two sources without a reason; with a reason of 3 bytes.
  EXPECT_TRUE(sound(rr_sdes + test::rtcp_packet(2, 203, 2)));
  EXPECT_TRUE(sound(rr_sdes + fit(test::rtcp_packet(1, 203, 1) + "\x03" "bye")));
  // APP, PLI (no FCI), NACK (one FCI word), FIR (8 bytes of FCI).
  EXPECT_TRUE(sound(rr_sdes + fit(test::rtcp_packet(0, 204, 2) + "data")));
  EXPECT_TRUE(sound(rr_sdes + test::rtcp_packet(1, 206, 2)));
  EXPECT_TRUE(sound(rr_sdes + test::rtcp_packet(1, 205, 3)));
  EXPECT_TRUE(sound(rr_sdes + test::rtcp_packet(4, 206, 4)));
  // SDES: two chunks; a PRIV item with a 2-byte prefix and a 3-byte value.
  std::string two = test::rtcp_packet(2, 202, 0).substr(0, 4) + std::string("\0\0\0\1\1\1x\0", 8) +
                    std::string("\0\0\0\2\0\0\0\0", 8);
  EXPECT_TRUE(sound(rr_sdes.substr(0, 8) + fit(two)));
  std::string priv = test::rtcp_packet(1, 202, 0).substr(0, 4) + std::string("\0\0\0\1\x08\x06\x02pxval", 12);
  EXPECT_TRUE(sound(rr_sdes.substr(0, 8) + fit(priv + std::string(4, '\0'))));
  // Padding in the last packet.
  std::string padded = test::rtcp_rr(0, 2);
  padded[0] = char(0xa0);
  padded.back() = 4;
  EXPECT_TRUE(sound(padded));
  // Types the session ignores (XR) are left to it.
  EXPECT_TRUE(sound(rr_sdes + test::rtcp_packet(0, 207, 2)));
}

TEST(RtcpCheck, EveryHostileShapeIsRefusedAndTheLargeSoundOnesTaken) {
  for (const auto& h : test::hostile_rtcp())
    EXPECT_EQ(sound(h.bytes), h.sound) << h.name;
}

TEST(RtcpCheck, CutAnywhereIsRefused) {
  const std::string rr_sdes = test::rtcp_rr_sdes(0x11223344);
  for (size_t n = 0; n < rr_sdes.size(); ++n) {
    if (n == 8)  // (the report alone is a whole compound)
      continue;
    EXPECT_FALSE(sound(rr_sdes.substr(0, n))) << n << " bytes";
  }
  // Padding outside the last packet, a padding count of 0 or past the
  // packet, and version 1.
  std::string pad_first = rr_sdes;
  pad_first[0] = char(uint8_t(pad_first[0]) | 0x20);
  EXPECT_FALSE(sound(pad_first));
  std::string padded = test::rtcp_rr(0, 2);
  padded[0] = char(0xa0);
  for (uint8_t count : {0, 13, 255}) {
    padded.back() = char(count);
    EXPECT_FALSE(sound(padded)) << "padding " << int(count);
  }
  std::string v1 = rr_sdes;
  v1[0] = char(0x40);
  EXPECT_FALSE(sound(v1));
}

}  // namespace
}  // namespace gms
