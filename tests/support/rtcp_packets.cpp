#include "rtcp_packets.h"

namespace gms::test {
namespace {

std::string be32(uint32_t v) {
  return {char(v >> 24), char((v >> 16) & 0xff), char((v >> 8) & 0xff), char(v & 0xff)};
}

// Sets the length field of a packet that starts at `at` to fit `p`'s end.
void fit_length(std::string& p, size_t at = 0) {
  size_t words = (p.size() - at) / 4 - 1;
  p[at + 2] = char(words >> 8);
  p[at + 3] = char(words & 0xff);
}

// An SDES packet of one chunk: `ssrc` and the items as given (type,
// length, data: the test decides whether they fit), then padded to a word.
std::string sdes(uint32_t ssrc, const std::string& items) {
  std::string p = rtcp_packet(1, 202, 0).substr(0, 4) + be32(ssrc) + items;
  p.append(4 - p.size() % 4, '\0');  // the end of the item list, and padding
  fit_length(p);
  return p;
}

std::string bye(uint32_t ssrc, const std::string& reason_and_rest) {
  std::string p = rtcp_packet(1, 203, 0).substr(0, 4) + be32(ssrc) + reason_and_rest;
  p.append((4 - p.size() % 4) % 4, '\0');
  fit_length(p);
  return p;
}

}  // namespace

std::string rtcp_packet(uint8_t count, uint8_t type, size_t words) {
  std::string p(4 + 4 * words, '\0');
  p[0] = char(0x80 | (count & 0x1f));
  p[1] = char(type);
  p[2] = char(words >> 8);
  p[3] = char(words & 0xff);
  return p;
}

std::string rtcp_rr(uint8_t count, size_t words) { return rtcp_packet(count, 201, words); }

std::string rtcp_rr_sdes(uint32_t ssrc, const std::string& cname) {
  std::string rr = rtcp_rr(0, 1);
  rr.replace(4, 4, be32(ssrc));
  return rr + sdes(ssrc, std::string(1, '\x01') + char(cname.size()) + cname);
}

std::string rtcp_sdes_overrun() {
  std::string p = rtcp_packet(1, 202, 2);
  p.replace(4, 4, be32(1));
  p.replace(8, 4, std::string("\x01\xff" "ab", 4));  // CNAME, 255 bytes claimed
  return p;
}

std::vector<HostileRtcp> hostile_rtcp(bool big) {
  const uint32_t stranger = 0x0badf00d;
  const std::string rr = rtcp_rr_sdes(stranger).substr(0, 8);
  // A 2000-byte sound compound: the report, its SDES, and two APP packets.
  std::string compound = rtcp_rr_sdes(stranger);
  for (size_t data : {size_t(1000), 2000 - compound.size() - 1000 - 2 * 12}) {
    std::string app = rtcp_packet(0, 204, 2) + std::string(data, 'a');
    app.replace(4, 8, be32(stranger) + "gms0");
    fit_length(app);
    compound += app;
  }
  // The same with a last packet that claims 40 words more than are left.
  std::string overrun = compound;
  const size_t last = overrun.rfind("gms0") - 8;
  const size_t words = ((uint8_t(overrun[last + 2]) << 8) | uint8_t(overrun[last + 3])) + 40;
  overrun[last + 2] = char(words >> 8);
  overrun[last + 3] = char(words & 0xff);
  // An SDES chunk whose second item is cut after its type, at the packet's
  // end (no end of list).
  std::string cut = rtcp_packet(1, 202, 0).substr(0, 4) + be32(stranger) + std::string("\x01\x01x\x01", 4);
  fit_length(cut);
  std::vector<HostileRtcp> out = {
      {"SDES item length past the packet", rr + rtcp_sdes_overrun()},
      {"SDES item length past the packet, alone", rtcp_sdes_overrun()},
      // PRIV (8): a prefix of 8 bytes in an item of 2. GStreamer 1.22 then
      // copies the value from just past the end of the packet, where the
      // allocation of an interleaved frame ends.
      {"SDES PRIV prefix past the item", rr + sdes(stranger, "\x08\x02\x08x")},
      {"SDES PRIV prefix past the item, alone", sdes(stranger, "\x08\x02\x08x")},
      {"SDES item cut in its header", rr + cut},
      {"SDES of 31 chunks in one", [&] {
         std::string p = sdes(stranger, "\x01\x01x");
         p[0] = char(0x80 | 31);
         return rr + p;
       }()},
      {"RR of 31 blocks in 8 bytes", rtcp_rr(31, 1)},
      {"RR without its SSRC", rtcp_rr(0, 0)},
      {"SR cut after its SSRC", rtcp_packet(0, 200, 1)},
      {"BYE with a 255-byte reason", rr + bye(stranger, std::string(1, '\xff') + std::string(255, 'r')),
       true},
      {"BYE reason past the packet", rr + bye(stranger, std::string("\xff" "abc", 4))},
      {"BYE of 31 sources in 8 bytes", [&] {
         std::string p = bye(stranger, "");
         p[0] = char(0x80 | 31);
         return rr + p;
       }()},
      {"2000-byte compound", compound, true},
      {"2000-byte compound, last packet past the end", overrun},
      {"feedback without its SSRCs", rr + rtcp_packet(1, 206, 0)},
      // FMT 15, sender and media SSRC, base sequence 0, 65535 packets.
      {"transport-wide congestion control feedback",
       rr + rtcp_packet(15, 205, 4).replace(12, 4, std::string("\x00\x00\xff\xff", 4))},
      {"APP cut in its name", rr + rtcp_packet(0, 204, 1)},
      {"1 byte", std::string(1, '\x80')},
      {"3 bytes", std::string("\x80\xc9\x00", 3)},
      {"2000 bytes of junk", std::string(2000, '\x81')},
  };
  if (big)
    out.push_back({"BYE, 60004 bytes, length past the end",
                   std::string("\x81\xcb\xff\xff", 4) + std::string(60000, 'r')});
  return out;
}

}  // namespace gms::test
