// Retention of recordings on disk: delete-after and max-bytes hold for every
// segment in a path's directory, whoever wrote it (an earlier run of the
// server, a publisher that left, a recorder stopped by the API or by a full
// disk), not only for the segments the running recorder opened itself.
//
// RetentionSweeper runs on the control context off a timer; the directory
// walks and deletions run in a GTask thread so that a slow disk never holds
// the control context. One sweep at a time; a tick while one runs is
// skipped.
#pragma once

#include <glib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gms/ref.h"
#include "gms/signal.h"
#include "record/segment_listing.h"

namespace gms {
class Config;
}

namespace gms::record {

// One configured path's rule. A pattern ("/live/*") covers every path
// recorded below its prefix, each directory on its own.
struct RetentionRule {
  std::string name;  // "/cam1", or "/live/*"
  unsigned delete_after = 0;  // s; 0: no age limit
  uint64_t max_bytes = 0;     // per path; 0: no cap
};

// What one sweep needs, copied on the control context for the thread.
struct RetentionPlan {
  std::string record_dir;
  std::vector<RetentionRule> rules;  // only those with a limit
  std::set<std::string> writing;     // served paths ("/live/cam1") a recorder writes now
};

// The rules of `config` (paths that may record with delete-after or
// max-bytes set); `writing` as the caller knows it.
RetentionPlan plan_retention(const Config& config, std::set<std::string> writing);

// A segment counts as being written if it is the newest of a directory a
// recorder writes into, or the newest of any directory and written to less
// than this ago (a recorder that has just stopped may still finish it).
inline constexpr gint64 kRecentWriteUs = 15 * G_USEC_PER_SEC;

// The policy, on one directory's segments (oldest first, as list_segments
// gives them): the files to delete now, oldest first. `writing`: a
// recorder writes into this directory now.
std::vector<std::string> retention_victims(const std::vector<SegmentOnDisk>& segments,
                                           gint64 now_us, const RetentionRule& rule, bool writing);

// The recorded paths `rule` covers, as served names whose directory is
// record_dir + name: the path itself for a plain name; for a pattern every
// directory below its prefix, except those a more specific rule of `rules`
// covers. Does file I/O (bounded depth, no symbolic links).
std::vector<std::string> retention_paths(const std::string& record_dir, const RetentionRule& rule,
                                        const std::vector<RetentionRule>& rules);

// One sweep over `plan`: deletes what the policy says, logs each file.
// Returns the number of files deleted. Blocking file I/O.
unsigned sweep_retention(const RetentionPlan& plan, gint64 now_us);

class RetentionSweeper {
 public:
  using PlanSource = std::function<RetentionPlan()>;

  // Sweeps once soon after start, then every `interval`. `plan` is called
  // on `control` at each tick (it reads the server's current configuration
  // and recorders there).
  RetentionSweeper(GMainContext* control, PlanSource plan,
                   std::chrono::milliseconds interval = std::chrono::seconds(5));
  ~RetentionSweeper();
  RetentionSweeper(const RetentionSweeper&) = delete;
  RetentionSweeper& operator=(const RetentionSweeper&) = delete;

 private:
  void tick();

  PlanSource plan_;
  Ref<GMainContext> control_;
  // Set while a sweep runs in its thread; the thread clears it, also after
  // this object is gone.
  std::shared_ptr<std::atomic<bool>> busy_;
  SourceHolder first_, timer_;
};

}  // namespace gms::record
