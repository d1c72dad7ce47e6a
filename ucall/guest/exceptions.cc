// Guest exception handlers (the selftests' vm_install_exception_handler, from inside the
// guest): idt_stubs.S saves the registers and calls tdsim_dispatch_exception, which runs
// the handler installed for the vector or reports the exception as UCALL_UNHANDLED.
#include "ucall/guest/guest.h"

namespace {

// One table for all vCPUs, like the IDT it serves. Written with plain stores: a handler
// is installed before the code that may fault runs, on the same vCPU or after a SYNC.
tdsim_exception_handler g_handlers[256];

}  // namespace

extern "C" {

[[noreturn]] void tdsim_report_unhandled(uint64_t vector, uint64_t error_code, uint64_t rip);

void tdsim_install_exception_handler(uint8_t vector, tdsim_exception_handler handler) {
  *static_cast<volatile tdsim_exception_handler*>(&g_handlers[vector]) = handler;
}

void tdsim_dispatch_exception(tdsim::guest::ExRegs* regs) {
  const tdsim_exception_handler h =
      *static_cast<volatile tdsim_exception_handler*>(&g_handlers[regs->vector & 0xff]);
  if (h == nullptr) tdsim_report_unhandled(regs->vector, regs->error_code, regs->rip);
  h(regs);
}

}  // extern "C"
