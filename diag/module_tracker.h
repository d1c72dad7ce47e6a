// Which firmware module a vCPU is executing, followed at translation-block entries: the
// first time execution enters a module (a PE/TE image, pe_module.h) the tracker says so,
// which is how a firmware's progress shows without a debug console (SecMain, then
// PeiCore, PlatformPei, DxeIpl, DxeCore, ...). Per vCPU; engine-free. Cheap while the
// vCPU stays in one module; a page of code outside every image is remembered as such.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "core/guest_memory.h"
#include "core/td_image.h"
#include "guest_view.h"

namespace tdsim::diag {

class ModuleTracker {
 public:
  // Execution is at `rip` (a block's first instruction): a line for a module entered for
  // the first time ("entered PeiCore (PE image at 0x820000)"), else nullopt.
  std::optional<std::string> at(const GuestMemory& mem, const TdImage& image, const LinearView& view, uint64_t rip);
  // Still where at() last found it: at() would say nothing (the cheap test per block).
  bool inside(uint64_t rip) const { return rip >= cur_begin_ && rip < cur_end_; }

 private:
  struct Known {
    uint64_t end;
    std::string name;
  };
  uint64_t cur_begin_ = 1, cur_end_ = 0;  // the module (or module-less page) RIP was last in
  std::map<uint64_t, Known> modules_;     // by base
  std::set<uint64_t> outside_;            // pages of code that is in no image
  std::set<std::string> entered_;
};

}  // namespace tdsim::diag
