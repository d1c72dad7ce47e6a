// HLT in a TD is a #VE (the TDX module never lets a TD halt natively): with the runtime's
// #VE handler installed it becomes TDG.VP.VMCALL<Instruction.HLT>, which halts the vCPU;
// once the host resumes it, the handler returns after the HLT and the guest reports the
// #VE information it read (stage 1) and ends.
#include <stdint.h>

#include "ucall/guest/guest.h"

void guest_main(uint32_t) {
  tdsim::guest::install_exception_handler(20, tdsim_ve_handler);
  asm volatile("hlt" ::: "memory");
  tdsim::guest::VeRecord ve;
  tdsim_ve_last(&ve);
  GUEST_SYNC_ARGS(1, ve.exit_reason, ve.qualification, ve.insn_length);
  GUEST_DONE();
}
