// MoofGuard's bookkeeping without a pipeline: mp4mux's buffers in the order
// it pushes them (ftyp, moov, then per fragment a moof, the mdat header and
// the samples; at the end the index and a seek back to rewrite the moov),
// and where each hidden moof is typed back.
#include "moof_guard.h"

#include <gtest/gtest.h>

#include <string>

namespace gms {
namespace {

// The first bytes of a box of `size` bytes typed `type`.
std::string box(uint32_t size, const char* type) {
  std::string b;
  for (int shift = 24; shift >= 0; shift -= 8)
    b += char((size >> shift) & 0xff);
  return b + type;
}

MoofGuard::Before push(MoofGuard& g, const std::string& head, uint64_t size) {
  return g.buffer(reinterpret_cast<const uint8_t*>(head.data()), head.size(), size);
}

TEST(MoofGuard, EachMoofIsHiddenUntilTheNextWrite) {
  MoofGuard g;
  EXPECT_FALSE(g.seek(0));
  EXPECT_FALSE(push(g, box(32, "ftyp"), 32).hide);
  EXPECT_FALSE(push(g, box(1383, "moov"), 1383).hide);
  // First fragment at 1415: hidden; typed back before its mdat header.
  auto moof = push(g, box(168, "moof"), 168);
  EXPECT_TRUE(moof.hide);
  EXPECT_FALSE(moof.retype_at);
  auto mdat = push(g, box(27174, "mdat"), 8);
  EXPECT_FALSE(mdat.hide);
  ASSERT_TRUE(mdat.retype_at);
  EXPECT_EQ(*mdat.retype_at, 1415u + 4);
  EXPECT_FALSE(push(g, "\0\0\x1a\x6e", 6766).retype_at);  // a sample: nothing due
  // The next fragment starts where the samples end.
  EXPECT_TRUE(push(g, box(228, "moof"), 228).hide);
  auto next = push(g, box(2100, "mdat"), 8);
  ASSERT_TRUE(next.retype_at);
  EXPECT_EQ(*next.retype_at, 1415u + 168 + 8 + 6766 + 4);
}

TEST(MoofGuard, ASeekOrTheEndTypesBackWhatIsDue) {
  MoofGuard g;
  push(g, box(32, "ftyp"), 32);
  EXPECT_TRUE(push(g, box(100, "moof"), 100).hide);
  auto due = g.seek(0);  // mp4mux going back to rewrite its header
  ASSERT_TRUE(due);
  EXPECT_EQ(*due, 32u + 4);
  EXPECT_FALSE(g.end());
  // After the seek, positions count from it.
  push(g, box(1383, "moov"), 1383);
  EXPECT_FALSE(g.seek(5000));
  EXPECT_TRUE(push(g, box(120, "moof"), 120).hide);
  auto last = g.end();
  ASSERT_TRUE(last);
  EXPECT_EQ(*last, 5000u + 4);
}

TEST(MoofGuard, OnlyAWholeMoofInOneBufferIsHidden) {
  MoofGuard g;
  EXPECT_FALSE(push(g, box(168, "moof"), 100).hide);   // split over buffers
  EXPECT_FALSE(push(g, box(168, "moof").substr(0, 4), 4).hide);  // too short to tell
  EXPECT_FALSE(push(g, std::string("moof"), 168).hide);
  EXPECT_FALSE(push(g, box(168, "mdat"), 168).hide);
  EXPECT_FALSE(g.end());
}

}  // namespace
}  // namespace gms
