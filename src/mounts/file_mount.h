// File mounts: every media file under a root directory, served on demand at
// PREFIX/RELATIVE/PATH (live555's DynamicRTSPServer, for every container
// GStreamer reads).
//
// gst-rtsp-server answers DESCRIBE only for a factory mounted at exactly the
// request path (find_media with matched == NULL), and takes the stream
// control from what follows the mount on SETUP. So a root is mounted as a
// marker at its prefix (longest-prefix matching sends its requests here),
// and when a client asks for a file, FileRoots::resolve checks the path,
// probes the file (cached by path + identity) and mounts a factory for that
// one file at the request path, before the library looks. Launch paths keep
// their names: a request that matches one never reaches the roots.
#pragma once

#include <gst-mediaserver/config.h>
#include <gst/rtsp-server/rtsp-server.h>

#include <chrono>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "gms/ref.h"
#include "mounts/media_probe.h"

namespace gms::mounts {

class FileRoots {
 public:
  explicit FileRoots(GstRTSPMountPoints* mounts, size_t max_mounted_files = 2048);
  ~FileRoots();
  FileRoots(const FileRoots&) = delete;
  FileRoots& operator=(const FileRoots&) = delete;

  // Serves `path` (a root path); `pool` for multicast, may be null.
  void add(const PathConfig& path, GstRTSPAddressPool* pool);
  // Stops serving the root `name`; returns the mount paths of its files
  // that were mounted (their sessions are for the caller to drop).
  std::vector<std::string> remove(const std::string& name);

  // Before DESCRIBE and SETUP, on an RTSP client thread: 200 when the
  // request is not for a root or its file is mounted now; else 400, 404 or
  // 415 with the reason logged; 503 while the file is still being probed
  // (the client is to ask again: the result is cached). `setup`: the path may end with a stream
  // control ("/stream=0"). A directory with a time range in `query`
  // ("start=…&duration=…") mounts the recorded segments of that range as
  // one stream (see mount_range).
  GstRTSPStatusCode resolve(const std::string& abspath, const std::string& query, bool setup);

  ProbeCache& probes() { return probes_; }
  size_t mounted_files() const;

 private:
  struct Root {
    PathConfig config;
    std::string real;  // realpath of the root, "" for "/"
    Ref<GstRTSPAddressPool> pool;
    Ref<GstRTSPMediaFactory> marker;
  };
  struct Mounted {
    std::string root;  // root name
    std::string file;
    FileIdentity id;
    Ref<GstRTSPMediaFactory> factory;
    std::list<std::string>::iterator lru;
    std::string query;  // a time range: the query it was mounted for
  };

  GstRTSPStatusCode mount_file(const std::shared_ptr<Root>& root, const std::string& mount_path,
                               const std::string& relative, bool setup);
  // The segments of the directory `relative` (msrecorder names) that overlap
  // the query's time range, played back to back from the range's start for
  // its duration, then EOS (RTCP BYE).
  GstRTSPStatusCode mount_range(const std::shared_ptr<Root>& root, const std::string& mount_path,
                                const std::string& relative, const std::string& query);
  void unmount_locked(const std::string& mount_path);
  // Drops our record of a mount, not the mount itself (adding another
  // factory at its path replaces it). False when there was none.
  bool forget_locked(const std::string& mount_path);

  Ref<GstRTSPMountPoints> mounts_;
  size_t max_files_;
  ProbeCache probes_;
  mutable std::mutex lock_;  // protects roots_, files_, lru_; never held while probing
  std::map<std::string, std::shared_ptr<Root>> roots_;  // by path name
  std::unordered_map<std::string, Mounted> files_;       // by mount path
  std::list<std::string> lru_;                           // most recently asked first
};

// For --check: the files a root serves, by URL path, with what they hold.
struct ServableFile {
  std::string url_path;  // "/vod/dir/file.mp4"
  std::string summary;   // "H.264 + AAC, 5.0 s"
};
std::vector<ServableFile> scan_root(const PathConfig& path, std::vector<std::string>* skipped);

}  // namespace gms::mounts
