// What a UDP joiner's GOP replay sends: the packets of the PLAY reply's
// snapshot, then those the reader output after it (by sequence number).
#include <gst/rtp/gstrtpbuffer.h>
#include <gtest/gtest.h>

#include "mounts/gop_replay.h"

namespace gms::mounts {
namespace {

Ref<GstBuffer> rtp(uint16_t seq) {
  auto b = Ref<GstBuffer>::adopt(gst_rtp_buffer_new_allocate(10, 0, 0));
  GstRTPBuffer r = GST_RTP_BUFFER_INIT;
  gst_rtp_buffer_map(b.get(), GST_MAP_WRITE, &r);
  gst_rtp_buffer_set_seq(&r, seq);
  gst_rtp_buffer_unmap(&r);
  return b;
}

std::vector<Ref<GstBuffer>> run(uint16_t from, uint16_t to) {
  std::vector<Ref<GstBuffer>> v;
  for (uint16_t s = from; s != uint16_t(to + 1); ++s)
    v.push_back(rtp(s));
  return v;
}

std::vector<uint16_t> seqs(const std::vector<Ref<GstBuffer>>& v) {
  std::vector<uint16_t> out;
  for (const auto& b : v) {
    GstRTPBuffer r = GST_RTP_BUFFER_INIT;
    gst_rtp_buffer_map(b.get(), GST_MAP_READ, &r);
    out.push_back(gst_rtp_buffer_get_seq(&r));
    gst_rtp_buffer_unmap(&r);
  }
  return out;
}

TEST(GopReplay, SameGopGrownSendsOnlyTheNewPackets) {
  auto sent = run(100, 104);
  append_newer(sent, run(100, 107));
  EXPECT_EQ(seqs(sent), (std::vector<uint16_t>{100, 101, 102, 103, 104, 105, 106, 107}));
}

TEST(GopReplay, ANewerGopAddsWhatFollowsAcrossTheWrap) {
  auto sent = run(65534, 65535);
  append_newer(sent, run(65535, 1));
  EXPECT_EQ(seqs(sent), (std::vector<uint16_t>{65534, 65535, 0, 1}));
}

TEST(GopReplay, NothingNewNothingAdded) {
  auto sent = run(10, 20);
  append_newer(sent, run(5, 20));
  EXPECT_EQ(sent.size(), 11u);
}

TEST(GopReplay, AnEmptySnapshotTakesTheCurrentGop) {
  std::vector<Ref<GstBuffer>> sent;
  append_newer(sent, run(7, 9));
  EXPECT_EQ(seqs(sent), (std::vector<uint16_t>{7, 8, 9}));
}

}  // namespace
}  // namespace gms::mounts
