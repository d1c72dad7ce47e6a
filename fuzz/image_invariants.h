// Properties every TdImage that build_image() returns must have, checked by the fuzz
// harnesses after each successful build; a violation traps so libFuzzer records the
// input. Depends on the layout's public types only (no backend).
#pragma once
#include "bootstub/host/layout_spec.h"
#include "core/td_image.h"

namespace tdsim::fuzz {

// Traps (__builtin_trap) with a message on stderr when `img` breaks a layout invariant.
void check_image_invariants(const TdImage& img, const LayoutSpec& spec);

// Traps with `what` on stderr when `ok` is false.
void require(bool ok, const char* what);

}  // namespace tdsim::fuzz
