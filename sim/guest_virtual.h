// Reading guest memory by linear address (GVA) as the vCPU sees it now: the engine's
// control registers decide whether paging is on, and the page walk runs over the same
// host memory the engine maps. Unicorn 2.1's uc_mem_read takes GPAs, and tdsim can no
// longer assume GVA == GPA (images from foreign layouts map code elsewhere).
#pragma once
#include <unicorn/unicorn.h>

#include <cstdint>
#include <optional>

#include "core/guest_memory.h"
#include "diag/page_walk.h"

namespace tdsim::sim {

// The untagged GPA behind `gva` for `access`, or nullopt where the vCPU's current paging
// would fault. With CR0.PG clear the address is physical.
std::optional<uint64_t> translate_gva(uc_engine* uc, const GuestMemory& mem, uint64_t gva,
                                      diag::Access access);

// Copies `len` bytes at `gva` page by page; false (nothing promised in `dst`) where a page
// is unmapped or not backed.
bool read_gva(uc_engine* uc, const GuestMemory& mem, uint64_t gva, void* dst, uint64_t len,
              diag::Access access = diag::Access::kRead);

}  // namespace tdsim::sim
