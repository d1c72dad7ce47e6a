// Which firmware module a vCPU is executing, followed at translation-block entries: the
// first time execution enters a module (a PE/TE image, pe_module.h) the tracker says so,
// which is how a firmware's progress shows without a debug console (SecMain, then
// PeiCore, PlatformPei, DxeIpl, DxeCore, ...). Per vCPU; engine-free. Cheap while the
// vCPU stays in one module; a page of code outside every image is remembered as such.
// Entering a module seen before re-reads its headers: a firmware unloads images and
// loads others at the same address (the DXE core does after a driver's entry point
// fails), and such a new image is an image first seen, which the engine must run from
// its new bytes (take_new_image()).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

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
  // True once after at() found an image it had not seen at that address with those
  // headers: code translated earlier from those addresses is stale (Unicorn 2.1 missed
  // guest stores that loaded a DXE driver over an unloaded one, docs/engine-quirks.md).
  bool take_new_image() { return std::exchange(new_image_, false); }

 private:
  static constexpr size_t kHeaderBytes = 0x200;  // DOS and PE headers, section table: what tells images apart
  struct Known {
    uint64_t end;
    std::string name;
    std::vector<uint8_t> header;  // the first kHeaderBytes at the base when found
  };
  // The image's headers now; empty when unreadable.
  static std::vector<uint8_t> header_at(const GuestMemory& mem, const TdImage& image, const LinearView& view,
                                        uint64_t base);
  uint64_t cur_begin_ = 1, cur_end_ = 0;  // the module (or module-less page) RIP was last in
  std::map<uint64_t, Known> modules_;     // by base
  std::set<uint64_t> outside_;            // pages of code that is in no image
  std::set<std::string> entered_;
  bool new_image_ = false;
};

}  // namespace tdsim::diag
