// Watches the boot stub of one Unicorn vCPU through a code hook ranged over the stub
// page only (the stub runs once per boot, so this costs nothing after it): applies the
// CR-write checks Unicorn skips (stub_cr_checks.h), and when asked records coverage and
// writes the boot-step trace (LGDT/LIDT, CR writes, paging on, the 64-bit switch, the
// jump to guest_code). Unicorn + diag; knows no scheduler.
#pragma once
#include <unicorn/unicorn.h>

#include <cstdint>
#include <optional>

#include "core/event.h"
#include "core/guest_memory.h"
#include "core/td_image.h"
#include "trace.h"

namespace tdsim::sim {

class StubMonitor {
 public:
  StubMonitor(uc_engine* uc, uint32_t vcpu, const TdImage& image, const GuestMemory& mem)
      : uc_(uc), vcpu_(vcpu), image_(image), mem_(mem) {}

  // First and last address of the hooked range: the stub through the reset vector.
  uint64_t begin() const;
  uint64_t end() const;

  void set_options(const TraceOptions* t) { opts_ = t; }
  // Per-boot state back to the reset state.
  void reset();

  // Before the stub instruction at `addr` runs: the #GP it must raise, if any (then it
  // must not run).
  std::optional<FaultEvent> before(uint64_t addr);
  // At guest_code (boot trace only).
  void at_guest_entry(uint64_t addr);
  // "0x401000: eb fe  jmp 0x401000" for the instruction trace, decoded in the current
  // mode (cached per CS selector and EFER.LMA: a mode changes only with one of them).
  std::string insn_line(uint64_t addr);

 private:
  enum class Pending { kNone, kGdt, kIdt, kPaging, kFarJump };
  void flush_pending();
  void line(const std::string& s) const;
  diag::CpuMode current_mode();

  uc_engine* uc_;
  uint32_t vcpu_;
  const TdImage& image_;
  const GuestMemory& mem_;
  const TraceOptions* opts_ = nullptr;
  Pending pending_ = Pending::kNone;
  bool entered_ = false;
  uint64_t mode_key_ = ~0ull;
  diag::CpuMode mode_ = diag::CpuMode::k32;
};

}  // namespace tdsim::sim
