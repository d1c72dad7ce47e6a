// What the C/C++ twin guests and their host test agree on (C11 and C++, constants only).
#pragma once

// Offset of the scratch MMIO register in the ucall MMIO page.
#define TWIN_SCRATCH_OFFSET 0x100
// The value the host test's device answers there.
#define TWIN_DEVICE_VALUE 0x0123456789abcdefull
