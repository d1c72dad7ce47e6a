// A code address named for a report: " <symbol+0x12>" from the image's symbols, else, in
// firmware (which has no symbol table), " <Module+0x12>" from the PE/TE image around it
// (pe_module.h); "" when neither names it. One wording for fault explanations and budget
// positions. Engine-free.
#pragma once
#include <cstdint>
#include <string>

#include "core/guest_memory.h"
#include "core/td_image.h"
#include "guest_view.h"

namespace tdsim::diag {

std::string code_address_name(const GuestMemory& mem, const TdImage& image, const LinearView& view, uint64_t addr);

}  // namespace tdsim::diag
