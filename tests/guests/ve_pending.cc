// A private page the TD has not accepted is PENDING: the guest accepts one page
// (TDG.MEM.PAGE.ACCEPT) and uses it, then reads a second one it never accepted. In a TD
// without ATTRIBUTES.SEPT_VE_DISABLE that read is an EPT-violation #VE, which the
// runtime's handler reports (UNHANDLED(20) with the GPA, GLA and qualification) and
// stops; with the attribute the TD exits to KVM, which ends the VM.
#include <stdint.h>

#include "tests/guests/ve_pending_pages.h"
#include "ucall/guest/guest.h"
#include "ucall/guest/tdx_calls.h"

void guest_main(uint32_t) {
  tdsim::guest::install_exception_handler(20, tdsim_ve_handler);
  const uint64_t status = tdsim::guest::tdg_mem_page_accept(TDSIM_VE_PENDING_ACCEPTED_GPA);
  auto* accepted = reinterpret_cast<volatile uint64_t*>(TDSIM_VE_PENDING_ACCEPTED_GPA);
  const uint64_t zeroed = *accepted;  // the module zeroes an accepted page
  *accepted = 0x5a5a;
  GUEST_SYNC_ARGS(1, status, zeroed, *accepted);
  auto* pending = reinterpret_cast<volatile uint64_t*>(TDSIM_VE_PENDING_TOUCHED_GPA + 0x18);
  const uint64_t v = *pending;
  GUEST_FAIL("the read of a page never accepted returned %#lx", static_cast<unsigned long>(v));
}
