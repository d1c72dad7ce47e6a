// Hand-assembled guest code for the Unicorn backend tests (GNU as syntax inside the
// test binary's .rodata; copied into hand-made TdImages, never executed by the host).
#pragma once
#include <cstddef>
#include <cstdint>

namespace tdsim::simtest {

struct Blob {
  const uint8_t* begin = nullptr;
  const uint8_t* end = nullptr;
  size_t size() const { return static_cast<size_t>(end - begin); }
};

// 32-bit, at the stub page.
Blob probe32();  // stores the reset state (see reset_state_test.cc), then HLT
Blob boot32();   // the common boot stub into 64-bit code at kCode

// 64-bit, at kCode.
Blob long_mode_probe64();  // stores EFER, CR0, CR4, CS, a 64-bit immediate; HLT
Blob hello64();            // reads the pool, ucall slot 0 (PRINTF), slot 1 (DONE)
Blob tdcall_loop64();      // 150 TDCALL MMIO writes at one address, then slot 0
Blob rcx_forbidden64();    // TDCALL with RCX bit 0 set, stores RAX/R10, then slot 0
Blob private_gpa64();      // MMIO to a private GPA, stores RAX/R10, then slot 0
Blob other_calls64();      // leaf 1, sub-function 99, KVM hypercalls 5 and 1; slot 0
Blob vmcall_hlt64();       // TDG.VP.VMCALL<HLT>, then ud2 (never reached)
Blob mmio_read64();        // 4-byte MMIO read, stores R11/R10, then slot 0
Blob loop_forever64();
Blob ud2_64();
Blob unmapped64();         // 8-byte store to GPA 0x7000000 (mapped by the PTs, no memory)
Blob page_fault64();       // unmaps the pool's 2 MiB page (PDE 1), then stores to it
Blob hlt64();
Blob port_out64();
Blob cpuid_ve64();          // nop; CPUID 0x40000000 (a #VE leaf) at kCode + 8; HLT
Blob port_out_store64();   // OUT at kCode + 2, then stores 0x77 into the first out cell; HLT
Blob alu_loop64();         // 1000 x (add, xor, add, dec, jnz) = 5,001 instructions, then HLT at kCode + 16
Blob private_slot64();
Blob report_over_code64();  // TDG.MR.REPORT over a function it then calls again; HLT if the new bytes ran     // ucall with the slot pointer at kData (private memory), HLT         // nop; mov $0x5a, %al; out %al, $0x80 (at kCode + 3); HLT
Blob alias_write64();      // writes through GVA 0x400000 + kData (PDE 2 -> GPA 0), checks, HLT
Blob smc_tdcall64();       // ucall slot 0, NOPs its own TDCALL site, runs it again, HLT
Blob cpuid21_64();         // CPUID 0x21/0 into the out cells, then slot 0
Blob bad_slot64();         // ucall with a slot address outside guest memory
Blob smp64();              // vCPU i: spin, PRINTF slot 2i three times, DONE slot 2i+1
// Benchmarks; N is the 8-byte cell at kData + kCellBenchCount.
Blob tdcall_bench64();     // N x KVM_HC_VAPIC_POLL_IRQ TDCALLs (no event), then slot 0
Blob ucall_bench64();      // N x ucall slot 0, then slot 1

}  // namespace tdsim::simtest
