#include "td_msr_virtual.h"

#include <fmt/format.h>

#include "td_cpuid.h"

namespace tdsim::tdx {

namespace {

constexpr uint32_t kMiscEnable = 0x1a0, kArchCapabilities = 0x10a, kPerfCapabilities = 0x345, kDebugctl = 0x1d9,
                   kXss = 0xda0;

// IA32_MISC_ENABLE bits the module sets from the TD rather than the platform.
constexpr uint64_t kMiscPerfmonAvailable = 1ull << 7, kMiscPebsUnavailable = 1ull << 12, kMiscEst = 1ull << 16,
                   kMiscMonitorFsm = 1ull << 18;
constexpr uint64_t kArchTsxCtrl = 1ull << 7;
constexpr uint64_t kPerfPebsOutputPt = 1ull << 16;
constexpr uint64_t kXfamPt = 1ull << 8;
// IA32_DEBUGCTL (the module's ia32_debugctl_t): reserved bits 5:3 and 63:16; TR (6),
// BTS (7), ENABLE_UNCORE_PMI (13).
constexpr uint64_t kDebugctlReserved = (0x7ull << 3) | (~0ull << 16);
constexpr uint64_t kDebugctlTr = 1ull << 6, kDebugctlBts = 1ull << 7, kDebugctlUncorePmi = 1ull << 13;

bool cpuid_bit(const CpuidModel& m, uint32_t leaf, int reg, int bit) {
  const CpuidValue v = m.answer(leaf, 0);
  const uint32_t regs[] = {v.eax, v.ebx, v.ecx, v.edx};
  return (regs[reg] >> bit) & 1;
}

MsrDecision done(uint64_t value = 0) { return {MsrAccess::kModule, {}, value}; }

// init_guest_ia32_misc_enable: fast strings, BTS/PEBS unavailable from the platform,
// PERFMON available (and PEBS then available) from ATTRIBUTES, EST and the MONITOR FSM
// from the TD's CPUID (both fixed-0 in a TD).
uint64_t misc_enable(const MsrTdConfig& td) {
  const bool perfmon = (td.attributes & kAttrPerfmon) != 0;
  uint64_t v = kModelMiscEnable & ~(kMiscPerfmonAvailable | kMiscPebsUnavailable | kMiscEst | kMiscMonitorFsm);
  if (perfmon) v |= kMiscPerfmonAvailable;
  if (!perfmon && (kModelMiscEnable & kMiscPebsUnavailable)) v |= kMiscPebsUnavailable;
  if (cpuid_bit(td.td_cpuid, 1, 2, 7)) v |= kMiscEst;
  if (cpuid_bit(td.td_cpuid, 1, 2, 3)) v |= kMiscMonitorFsm;
  return v;
}

}  // namespace

MsrDecision virtual_msr_access(uint32_t msr, bool write, uint64_t value, const MsrTdConfig& td,
                               const MsrVcpuState& vcpu) {
  const char* op = write ? "WRMSR" : "RDMSR";
  if (msr == kMsrEfer && write) {
    // wrmsr_ia32_efer: LMA is read-only (the old value stands); only SCE may change.
    uint64_t want = (value & ~kEferLma) | (vcpu.efer & kEferLma);
    const uint64_t changed = (want ^ vcpu.efer) & ~kEferSce;
    if (changed)
      return {MsrAccess::kVe,
              fmt::format("{} IA32_EFER {:#x} -> {:#x} changes bits {:#x}: a TD may change SCE only", op, vcpu.efer,
                          value, changed)};
    return {MsrAccess::kNative, {}};
  }
  if (msr == kXss && write) {
    // wrmsr_ia32_xss: every bit set must be one the platform supports and XFAM enables.
    const uint64_t allowed = kModelXssSupported & td.xfam;
    if (value & ~allowed)
      return {MsrAccess::kGp, fmt::format("{} IA32_XSS {:#x} sets bits {:#x} outside the platform's XSS and XFAM {:#x}",
                                          op, value, value & ~allowed, td.xfam)};
    return {MsrAccess::kNative, {}};
  }
  if (msr == kDebugctl && vcpu.debugctl) {
    if (!write) return done(*vcpu.debugctl & ~kDebugctlUncorePmi);  // rdmsr_ia32_debugctl: bit 13 reads 0
    // wrmsr_ia32_debugctl
    if (value & kDebugctlReserved)
      return {MsrAccess::kGp, fmt::format("{} IA32_DEBUGCTL {:#x} sets reserved bits {:#x}", op, value,
                                          value & kDebugctlReserved)};
    if ((value & kDebugctlTr) && !(value & kDebugctlBts))
      return {MsrAccess::kVe, fmt::format("{} IA32_DEBUGCTL {:#x}: TR without BTS (bits 7:6 = 01)", op, value)};
    *vcpu.debugctl = (value & ~kDebugctlUncorePmi) | (*vcpu.debugctl & kDebugctlUncorePmi);
    return done();
  }
  if (!write && msr == kMiscEnable) return done(misc_enable(td));
  // rdmsr_ia32_arch_capabilities: the platform's value with IA32_TSX_CTRL enumerated absent.
  if (!write && msr == kArchCapabilities) return done(kModelArchCapabilities & ~kArchTsxCtrl);
  if (!write && msr == kPerfCapabilities) {
    // rdmsr_ia32_perf_capabilities: 0 without PERFMON; with it the platform's value, PEBS
    // output to PT cleared unless XFAM has PT.
    if (!(td.attributes & kAttrPerfmon)) return done(0);
    return done((td.xfam & kXfamPt) ? kModelPerfCapabilities : kModelPerfCapabilities & ~kPerfPebsOutputPt);
  }
  return {MsrAccess::kVe, fmt::format("{} {:#x}: no module handler modelled (#VE)", op, msr)};
}

}  // namespace tdsim::tdx
