// SegmentPolicy: file names from the pattern and retention decisions.
#include <gtest/gtest.h>

#include <cstdlib>

#include "segment_policy.h"

namespace gms {
namespace {

class SegmentPolicyNames : public testing::Test {
 protected:
  void SetUp() override {
    // Names use local time: pin the zone so the expectations hold anywhere.
    old_tz_ = g_getenv("TZ") ? g_getenv("TZ") : "";
    g_setenv("TZ", "UTC", TRUE);
    tzset();
  }
  void TearDown() override {
    if (old_tz_.empty())
      g_unsetenv("TZ");
    else
      g_setenv("TZ", old_tz_.c_str(), TRUE);
    tzset();
  }
  std::string old_tz_;
};

// 2024-03-05 07:08:09.012345 UTC
constexpr gint64 kWhen = 1709622489LL * G_USEC_PER_SEC + 12345;

TEST_F(SegmentPolicyNames, DefaultPattern) {
  EXPECT_EQ(SegmentPolicy::format_location("%path/%Y-%m-%d_%H-%M-%S-%f.mp4", "/rec/cam1", kWhen),
            "/rec/cam1/2024-03-05_07-08-09-012345.mp4");
}

TEST_F(SegmentPolicyNames, PathIsLiteralAndPercentEscapes) {
  EXPECT_EQ(SegmentPolicy::format_location("%path/%%Y-%Y.ts", "/rec/100%Y", kWhen), "/rec/100%Y/%Y-2024.ts");
}

TEST_F(SegmentPolicyNames, PatternWithoutPathOrFields) {
  EXPECT_EQ(SegmentPolicy::format_location("/dev/full", "", kWhen), "/dev/full");
  EXPECT_FALSE(SegmentPolicy::uses_path("/dev/full"));
  EXPECT_TRUE(SegmentPolicy::uses_path("%path/x"));
}

TEST_F(SegmentPolicyNames, DistinctMicrosecondsGiveDistinctNames) {
  const std::string p = "%path/%Y-%m-%d_%H-%M-%S-%f.mp4";
  EXPECT_NE(SegmentPolicy::format_location(p, "/r", kWhen), SegmentPolicy::format_location(p, "/r", kWhen + 1));
}

TEST_F(SegmentPolicyNames, StartFromNameIsTheInverse) {
  const std::string p = "%path/%Y-%m-%d_%H-%M-%S-%f.mp4";
  EXPECT_EQ(SegmentPolicy::start_from_name(SegmentPolicy::format_location(p, "/r", kWhen)), kWhen);
  EXPECT_EQ(SegmentPolicy::start_from_name("2024-03-05_07-08-09-012345-1.mkv"), kWhen);
  EXPECT_EQ(SegmentPolicy::start_from_name("2024-03-05_07-08-09-012345.ts"), kWhen);
  EXPECT_FALSE(SegmentPolicy::start_from_name("2024-03-05_07-08-09-0123.mp4"));
  EXPECT_FALSE(SegmentPolicy::start_from_name("2024-03-05_07-08-09-012345x.mp4"));
  EXPECT_FALSE(SegmentPolicy::start_from_name("notes.txt"));
  EXPECT_FALSE(SegmentPolicy::start_from_name("2024-13-45_07-08-09-012345.mp4"));
}

constexpr gint64 S = G_USEC_PER_SEC;

struct RetentionCase {
  const char* name;
  RetentionSettings settings;
  std::vector<SegmentFile> files;
  gint64 now_us;
  std::vector<std::string> expected;
};

class SegmentPolicyRetention : public testing::TestWithParam<RetentionCase> {};

TEST_P(SegmentPolicyRetention, ChoosesVictims) {
  const auto& c = GetParam();
  EXPECT_EQ(SegmentPolicy::to_delete(c.files, c.now_us, c.settings), c.expected);
}

const std::vector<SegmentFile> kFiles = {
    {"c", 300 * S, 100, false},
    {"a", 100 * S, 100, false},
    {"b", 200 * S, 100, false},
    {"d", 400 * S, 100, true},
};

INSTANTIATE_TEST_SUITE_P(
    Table, SegmentPolicyRetention,
    testing::Values(
        RetentionCase{"nothing_configured", {0, 0}, kFiles, 10000 * S, {}},
        RetentionCase{"by_age", {150, 0}, kFiles, 400 * S, {"a", "b"}},
        RetentionCase{"age_boundary_is_kept", {200, 0}, kFiles, 400 * S, {"a"}},
        RetentionCase{"by_size_oldest_first", {0, 250}, kFiles, 400 * S, {"a", "b"}},
        RetentionCase{"size_already_fits", {0, 400}, kFiles, 400 * S, {}},
        RetentionCase{"open_segment_never_deleted", {1, 1}, kFiles, 10000 * S, {"a", "b", "c"}},
        RetentionCase{"age_then_size", {250, 150}, kFiles, 400 * S, {"a", "b", "c"}},
        // Started 300 s ago, closed 10 s ago: it holds the last seconds.
        RetentionCase{"age_counts_from_the_end", {150, 0},
                      {{"x", 100 * S, 100, false, 390 * S}, {"y", 50 * S, 100, false, 200 * S}},
                      400 * S, {"y"}},
        RetentionCase{"empty", {10, 10}, {}, 400 * S, {}}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace gms
