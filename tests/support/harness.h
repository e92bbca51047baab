// GstHarness held by a unique_ptr, so a failing ASSERT_* never leaks it.
#pragma once

#include <gst/check/gstharness.h>

#include <memory>

#include "gms/ref.h"

namespace gms::test {
using HarnessPtr = UniquePtr<GstHarness, gst_harness_teardown>;
}  // namespace gms::test
