// libFuzzer harness: the TDCALL/TDG.VP.VMCALL decisions (ucall::check_vmcall_mmio and
// tdx::TdxModule::tdcall) with fuzzed registers and guest memory: pure functions, no
// Unicorn engine. Checks the guest-visible contract: TDG.VP.VMCALL changes no GPR the
// guest did not expose in RCX, an unknown leaf only RAX; an MMIO exit is untagged,
// 1/2/4/8 bytes, data masked to its size; a rejection never stops the vCPU; a stop
// always comes with an event.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_memory.h"
#include "fuzz/image_invariants.h"
#include "tdx/tdx_module.h"
#include "tdsim/abi/tdx.h"
#include "ucall/host/tdvmcall.h"

using namespace tdsim;
using fuzz::require;

namespace {

// A register value: usually one the ABI gives meaning to, else anything.
uint64_t reg(FuzzedDataProvider& in) {
  const uint64_t sbit = fuzz::fuzz_image().shared_bit;
  switch (in.ConsumeIntegralInRange<int>(0, 9)) {
    case 0: return 0;
    case 1: return abi::kVmcallExposeR10toR15 | (in.ConsumeBool() ? 0 : in.ConsumeIntegral<uint16_t>());
    case 2: return in.ConsumeIntegralInRange<uint64_t>(0, 64);  // sizes, directions, sub-functions, leaves
    case 3: return fuzz::fuzz_image().ucall_mmio_gpa | sbit;
    case 4: return fuzz::steered_gpa(in.ConsumeIntegral<uint8_t>(), in.ConsumeIntegral<uint64_t>()) | sbit;
    case 5: return sbit - in.ConsumeIntegralInRange<uint64_t>(0, 8);  // straddles the shared bit
    default: return in.ConsumeIntegral<uint64_t>();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const TdImage& img = fuzz::fuzz_image();
  ucall::TdcallRegs r;
  for (uint64_t* p : {&r.rax, &r.rcx, &r.rdx, &r.rbx, &r.rsi, &r.rdi, &r.r8, &r.r9, &r.r10, &r.r11, &r.r12,
                      &r.r13, &r.r14, &r.r15})
    *p = reg(in);
  const uint32_t vcpu = in.ConsumeIntegral<uint32_t>();
  const uint64_t rip = in.ConsumeIntegral<uint64_t>();
  fuzz::fill_memory(in.ConsumeRemainingBytes<uint8_t>());

  const ucall::TdcallRegs v = ucall::vmm_view(r);
  require(v.rcx == r.rcx, "vmm_view passes RCX");
  require(((r.rcx >> 12) & 1) || v.r12 == 0, "unexposed R12 reads 0");

  const ucall::VmcallMmioDecision d = ucall::check_vmcall_mmio(r, img.shared_bit, vcpu);
  using Kind = ucall::VmcallMmioDecision::Kind;
  if (d.kind != Kind::kNotMmio) require(r.rax == abi::kTdgVpVmcall, "only TDG.VP.VMCALL is judged");
  if (d.kind == Kind::kRejected) require(!d.reason.empty(), "a rejection says why");
  if (d.kind == Kind::kExit) {
    require(!(d.mmio.gpa & img.shared_bit), "exit GPA is untagged");
    require(d.mmio.len == 1 || d.mmio.len == 2 || d.mmio.len == 4 || d.mmio.len == 8, "exit size 1/2/4/8");
    require(d.mmio.len == 8 || d.mmio.data >> (8 * d.mmio.len) == 0, "exit data masked to its size");
    require(d.mmio.vcpu == vcpu, "exit names the vCPU");
  }

  tdx::TdxModule tdx(img, fuzz::fuzz_memory());
  tdx.build_td();  // a TD runs only once built (TDG.MR.REPORT reports its MRTD)
  const tdx::TdcallResult out = tdx.tdcall(vcpu, rip, r);
  const ucall::TdcallRegs& o = out.regs;
  const uint64_t in_regs[] = {r.rdx, r.rbx, r.rsi, r.rdi, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15};
  const uint64_t out_regs[] = {o.rdx, o.rbx, o.rsi, o.rdi, o.r8, o.r9, o.r10, o.r11, o.r12, o.r13, o.r14, o.r15};
  const int gpr[] = {2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  if (r.rax == abi::kTdgVpVmcall) {
    // The module copies back from the VMM only the GPRs the guest exposed in RCX.
    require(o.rcx == r.rcx, "TDG.VP.VMCALL preserves RCX");
    for (int i = 0; i < 12; ++i)
      require(((r.rcx >> gpr[i]) & 1) || out_regs[i] == in_regs[i], "TDG.VP.VMCALL preserves unexposed GPRs");
  } else if (r.rax > 6 || r.rax == 5) {
    require(o.rcx == r.rcx, "an unknown leaf preserves RCX");
    for (int i = 0; i < 12; ++i) require(out_regs[i] == in_regs[i], "an unknown leaf changes only RAX");
    require(o.rax != abi::kTdxSuccess, "an unknown leaf fails");
  }
  if (out.stop) require(out.event.has_value() && is_terminal(*out.event), "a stop comes with a terminal event");
  if (out.event && std::holds_alternative<TdcallRejectedEvent>(*out.event))
    require(!out.stop, "rejections never stop the vCPU");
  if (out.event) require(!describe(*out.event).empty(), "describe() says something");
  // (A datum of 0 is "no ucall" and stays an MMIO write.)
  if (d.kind == Kind::kExit && d.mmio.is_write && d.mmio.gpa == img.ucall_mmio_gpa && d.mmio.len == 8 &&
      d.mmio.data != 0)
    require(out.event && (std::holds_alternative<UcallEvent>(*out.event) ||
                          std::holds_alternative<GuestMemoryErrorEvent>(*out.event)),
            "an 8-byte write to the ucall GPA is decoded as a ucall");
  return 0;
}
