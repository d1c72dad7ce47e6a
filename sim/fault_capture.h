// Reads what a Unicorn vCPU shows at a fault into the diagnostics view (diag::CpuState)
// and attaches diag::explain_fault()'s report to FaultEvents; also the architectural
// corrections the engine skips (a #PF it reports as "unmapped", exception delivery
// through a missing IDT). Unicorn + diag only; no scheduler, no CLI.
#pragma once
#include <unicorn/unicorn.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/guest_memory.h"
#include "core/td_image.h"
#include "diag/cpu_state.h"
#include "diag/disasm.h"

namespace tdsim::sim {

// Registers, control registers, descriptor tables and all GPRs, as the engine holds
// them; segment attributes come from the GDT entry of each selector (Unicorn exposes
// only selectors; selector 0 means the TD reset descriptor cache, docs/td-initial-state.md).
diag::CpuState capture_cpu_state(uc_engine* uc, const TdImage& image, const GuestMemory& mem);
// The code mode capture_cpu_state's state gives, from only the registers it derives from
// (a CPUID hook needs one bit of it, at every CPUID).
diag::CpuMode capture_code_mode(uc_engine* uc, const TdImage& image, const GuestMemory& mem);

// Fills ev.explanation (RIP taken from the event when it names one).
void explain_into(FaultEvent& ev, uc_engine* uc, const TdImage& image, const GuestMemory& mem);

// Unicorn 2.0.1 looks a linear address up in its memory map before the page walk, so an
// access the guest's page tables do not map shows as UC_ERR_*_UNMAPPED. When the walk
// (with the vCPU's CR3) fails, hardware raises #PF: make the event say so (vector 14,
// architectural error code, CR2 written into the engine for the report).
void refine_unmapped_access(FaultEvent& ev, uc_engine* uc, const TdImage& image,
                            const GuestMemory& mem, uc_mem_type type, uint64_t addr);

// Unicorn reports a #PF without its error code. Infer what the page walk of CR2 shows:
// P (translation exists but the access is denied) and I/D (CR2 inside the instruction
// at RIP). W/R cannot be told without decoding the access and is left 0.
void infer_pf_error_code(FaultEvent& ev, uc_engine* uc, const TdImage& image, const GuestMemory& mem);

// Exceptions are not delivered by Unicorn. When the guest's IDT could not deliver this
// vector nor #DF (limit too small or gate not present), a CPU shuts down: mark the event
// a triple fault like KVM reports it.
void apply_idt_delivery(FaultEvent& ev, uc_engine* uc, const TdImage& image, const GuestMemory& mem);

// "vCPU 0 still running at RIP 0x401000 <spin+0x3> in IA-32e 64-bit mode: 0x401000: eb fe  jmp ..."
// for budget events: where a vCPU was when the budget ran out.
std::vector<std::string> describe_position(uc_engine* uc, uint32_t vcpu, uint64_t last_executed,
                                           const TdImage& image, const GuestMemory& mem);

}  // namespace tdsim::sim
