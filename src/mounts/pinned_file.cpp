#include "mounts/pinned_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "gms/ref.h"

namespace gms::mounts {

namespace {

const char kPinned[] = "gms-pinned-fd";

// Owned by the filesrc (qdata): filesrc opens its location again each time
// its pad is activated (a typefinder hands the source to a demuxer), so the
// name must stay valid as long as the element.
struct Pinned {
  explicit Pinned(int f) : fd(f) {}
  ~Pinned() { close(fd); }
  Pinned(const Pinned&) = delete;
  Pinned& operator=(const Pinned&) = delete;
  int fd;
};

// Answers the URI query with the file's own URI, not the descriptor's: the
// stream ids of the tracks are made from it (they must be the same in every
// pipeline of the file: the probe's, each media's), and typefinding takes
// the file's extension from it.
GstPadProbeReturn on_query(GstPad*, GstPadProbeInfo* info, gpointer uri) noexcept {
  GstQuery* q = GST_PAD_PROBE_INFO_QUERY(info);
  if (!q || GST_QUERY_TYPE(q) != GST_QUERY_URI)
    return GST_PAD_PROBE_OK;
  gst_query_set_uri(q, static_cast<const gchar*>(uri));
  return GST_PAD_PROBE_HANDLED;
}

}  // namespace

bool set_pinned_location(GstElement* filesrc, const std::string& path, std::string& why) {
  static const bool have_proc = g_file_test("/proc/self/fd", G_FILE_TEST_IS_DIR);
  int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    why = std::string("cannot open: ") + g_strerror(errno);
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    why = "not a regular file";
    return false;
  }
  if (!have_proc) {  // (no /proc: checked, but opened by name again)
    close(fd);
    g_object_set(filesrc, "location", path.c_str(), nullptr);
    return true;
  }
  auto* pinned = new Pinned(fd);
  g_object_set_data_full(G_OBJECT(filesrc), kPinned, pinned,
                         [](gpointer p) { delete static_cast<Pinned*>(p); });
  const std::string location = "/proc/self/fd/" + std::to_string(fd);
  g_object_set(filesrc, "location", location.c_str(), nullptr);
  gchar* uri = g_filename_to_uri(path.c_str(), nullptr, nullptr);
  auto pad = Ref<GstPad>::adopt(gst_element_get_static_pad(filesrc, "src"));
  if (uri && pad)
    gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_QUERY_UPSTREAM, on_query, uri, g_free);
  else
    g_free(uri);
  return true;
}

}  // namespace gms::mounts
