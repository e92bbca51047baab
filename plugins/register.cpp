#include "elements.h"

gboolean gms_register_elements(GstPlugin* plugin) {
  gboolean ok = TRUE;
  (void)plugin;
  // ok &= GST_ELEMENT_REGISTER(msexample, plugin); one line per element.
  return ok;
}
