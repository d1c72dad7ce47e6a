// The MRTD of a TD built from a TDVF image the way KVM + QEMU build it: every section in
// metadata order goes in with KVM_TDX_INIT_MEM_REGION, whose pages each get TDH.MEM.PAGE.ADD
// and, for sections with the MR.EXTEND attribute, their sixteen 256-byte TDH.MR.EXTENDs
// right after (docs/firmware.md). Contents: BFV/CFV from the image, the rest of a section
// zero; TD_HOB and TempMem are never extended by Debian's OVMF, and would hash zeros.
#pragma once
#include <cstdint>
#include <span>

#include "bootstub/measure/mrtd.h"
#include "tdvf_metadata.h"

namespace tdsim::firmware {

// Adds and measures every section of `md` (parsed from `image`) into `acc`.
void feed_tdvf(measure::MrtdAccumulator& acc, const TdvfMetadata& md, std::span<const uint8_t> image);

measure::Mrtd predict_tdvf_mrtd(const TdvfMetadata& md, std::span<const uint8_t> image);

}  // namespace tdsim::firmware
