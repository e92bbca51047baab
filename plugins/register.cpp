#include "elements.h"

gboolean gms_register_elements(GstPlugin* plugin) {
  gboolean ok = TRUE;
  ok &= GST_ELEMENT_REGISTER(msstats, plugin);
  ok &= GST_ELEMENT_REGISTER(msnormalize, plugin);
  ok &= GST_ELEMENT_REGISTER(msrecorder, plugin);
  ok &= GST_ELEMENT_REGISTER(msrelaysink, plugin);
  ok &= GST_ELEMENT_REGISTER(msrelaysrc, plugin);
  return ok;
}
