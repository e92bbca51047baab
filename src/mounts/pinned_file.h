// A filesrc that reads the regular file a path names at the moment it is
// checked, whatever the path names later.
//
// Why: a file is checked (a regular file inside the root) and then opened
// by filesrc when its pipeline starts. Someone who can write the served
// directory can swap the file for a FIFO in between; filesrc's blocking
// open() then waits for a writer that never comes, and the thread that
// started the pipeline (a DESCRIBE's probe, a PLAY's preparation) with it.
// Here the path is opened once, without blocking and without following a
// final symlink, checked on the descriptor, and filesrc is given that
// descriptor's /proc/self/fd name: its open() reaches the same file even
// if the path was swapped since. Asked for its URI, the filesrc still names
// the file (track stream ids and typefinding are made from it).
//
// The descriptor is closed with the element: filesrc opens its location
// again whenever its pad is activated (a typefinder handing the source to a
// demuxer does so), so the name must stay valid as long as the element. A
// file's media thus holds two descriptors of its file.
#pragma once

#include <gst/gst.h>

#include <string>

namespace gms::mounts {

// Sets `filesrc`'s location to `path`, pinned as above. False with `why`
// when `path` does not name a readable regular file now.
bool set_pinned_location(GstElement* filesrc, const std::string& path, std::string& why);

}  // namespace gms::mounts
