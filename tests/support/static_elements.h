// GStreamer for a test program that links the element code (the static
// library the plugin is made of): the elements are registered from that
// code, and the plugin file never enters the process.
//
// With both, the process held two registrations of each element: a registry
// scan run in-process (GST_REGISTRY_FORK=no, or a registry not yet written)
// loads the plugin, whose elements register first (through the test's own
// exported code), then the test registers them again without a plugin. The
// second factory replaces the first in the registry, but each element class
// keeps the first factory's pointer, freed with it: gst_element_get_factory()
// on a new element returned freed memory (another element's factory when the
// allocator reused it), and GstHarness found no "msrelaysink" in its own
// pipeline.
#pragma once

namespace gms::test {

// gst_init() with the directories that hold the project's plugin left out of
// the scan (and a registry file of the test program's own, so that its
// scans and those of its child processes, which do load the plugin, do not
// rewrite one file in turn); the environment is put back afterwards for the
// child processes. Then the elements are registered from the linked code.
// Returns false, having said why, when the plugin was loaded all the same
// (installed in a system plugin directory and not yet in the registry).
bool init_gst_with_static_elements(int* argc, char*** argv);

}  // namespace gms::test
