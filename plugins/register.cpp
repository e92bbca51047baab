#include "elements.h"

gboolean gms_register_elements(GstPlugin* plugin) {
  gboolean ok = TRUE;
  // ok &= GST_ELEMENT_REGISTER(msexample, plugin); one line per element.
  ok &= GST_ELEMENT_REGISTER(msrelaysink, plugin);
  ok &= GST_ELEMENT_REGISTER(msrelaysrc, plugin);
  return ok;
}
