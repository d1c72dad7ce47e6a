// Boot state as the guest sees it after the stub (docs/tdx-abi.md, "Boot code and host
// values" and "TD initial vCPU state"): control registers equal the boot parameters,
// long mode, flat CS, IF clear, ABI stack alignment.
// Runs on every backend: none of it needs a TDCALL.
#include "checks.h"
#include "tdsim/abi/td_boot.h"
#include "ucall/guest/cpu_state.h"

namespace tdsim::conformance {

using guest::rdmsr;
using guest::read_cr0;
using guest::read_cr3;
using guest::read_cr4;
using guest::read_cs;
using guest::read_rflags;

void boot_checks(uint32_t vcpu) {
  if (guest::config_valid())
    pass("boot.guest_config");
  else
    fail("boot.guest_config", "magic/version not as the host writes them");
  const auto* bp = reinterpret_cast<const volatile abi::TdBootParams*>(uint64_t{abi::kTdBootParamsGpa});
  // CR0.ET is hardwired to 1 on every CPU since the P6: a MOV to CR0 cannot clear it.
  expect_eq("boot.cr0_from_params", read_cr0(), bp->cr0 | abi::kCr0Et);
  expect_eq("boot.cr3_from_params", read_cr3(), bp->cr3);
  expect_eq("boot.cr4_from_params", read_cr4(), bp->cr4);
  const uint64_t cr4 = read_cr4();
  if ((cr4 & abi::kTdxCr4Fixed1) && !(cr4 & abi::kTdxCr4Fixed0))
    pass("boot.cr4_tdx_fixed_bits");
  else
    fail("boot.cr4_tdx_fixed_bits", "CR4 %#lx: MCE must be 1, VMXE/SMXE 0", cr4);
  const uint64_t efer = rdmsr(0xc0000080);
  expect_eq("boot.efer_long_mode", efer & (abi::kEferLme | abi::kEferLma), abi::kEferLme | abi::kEferLma);
  // A TD's EFER also has SCE and NXE (0x901 at reset). An engine without NX/SYSCALL
  // CPUID bits cannot hold them: that is a property of the CPU model, detected here.
  const guest::CpuidRegs ext = guest::cpuid(0x80000001);
  const bool has_nx_sce = (ext.edx & (1u << 20)) && (ext.edx & (1u << 11));
  if (!has_nx_sce)
    skip("boot.efer_sce_nxe", "CPU model lacks NX/SYSCALL (CPUID 0x80000001 EDX bits 20/11)");
  else
    expect_eq("boot.efer_sce_nxe", efer & 0x801, 0x801);
  expect_eq("boot.cs_selector", read_cs(), abi::kKernelCs);
  expect_eq("boot.rflags_if_clear", read_rflags() & (1u << 9), 0);
  const guest::DescriptorTableRegister gdtr = guest::read_gdtr(), idtr = guest::read_idtr();
  expect_eq("boot.gdtr_from_params", gdtr.base | (uint64_t{gdtr.limit} << 48),
            bp->gdtr.base | (uint64_t{bp->gdtr.limit} << 48));
  expect_eq("boot.idtr_from_params", idtr.base | (uint64_t{idtr.limit} << 48),
            bp->idtr.base | (uint64_t{bp->idtr.limit} << 48));
  if (vcpu < guest::kMaxEntryRspVcpus)
    expect_eq("boot.entry_rsp_abi_aligned", (tdsim_entry_rsp[vcpu] + 8) % 16, 0);
  else
    skip("boot.entry_rsp_abi_aligned", "the runtime records entry RSP for the first 64 vCPUs only");
  if (vcpu < guest::nr_vcpus())
    pass("boot.rsi_is_vcpu_index_in_range");
  else
    fail("boot.rsi_is_vcpu_index_in_range", "RSI %u >= nr_vcpus %u", vcpu, guest::nr_vcpus());
}

}  // namespace tdsim::conformance
