// A DIAGNOSTICS VIEW of a vCPU's registers at a fault, for explain_fault(). A real TD's
// registers are protected by the TDX module and cannot be read by the host: only the
// simulator and a plain (non-TDX) KVM VM can fill this. Plain data; depends on nothing.
#pragma once
#include <array>
#include <cstdint>
#include <optional>

namespace tdsim::diag {

// A segment register as the CPU holds it. `attributes` uses the VMX access-rights layout
// (as abi::kTdInitCodeAr): type 3:0, S 4, DPL 6:5, P 7, AVL 12, L 13, D/B 14, G 15.
struct SegmentView {
  uint16_t selector = 0;
  uint64_t base = 0;
  uint32_t limit = 0;
  uint16_t attributes = 0;

  bool present() const { return attributes & (1u << 7); }
  bool code() const { return (attributes & (1u << 4)) && (attributes & (1u << 3)); }
  bool l() const { return attributes & (1u << 13); }
  bool d() const { return attributes & (1u << 14); }
  unsigned type() const { return attributes & 0xf; }
  unsigned dpl() const { return (attributes >> 5) & 3; }
};

struct DtrView {
  uint64_t base = 0;
  uint16_t limit = 0;
};

enum class ExecMode {
  kReal,           // CR0.PE = 0 (never a TD state)
  kProtected,      // 32-bit protected mode, paging off (the TD reset state)
  kProtectedPaging,// 32-bit paging (CR4.PAE = 0)
  kPae,            // 32-bit PAE paging (EFER.LME = 0)
  kCompat,         // IA-32e compatibility mode (LMA = 1, CS.L = 0)
  kLong64,         // IA-32e 64-bit mode
};

// General-purpose registers in encoding order (RAX=0 ... RDI=7, R8..R15).
enum Gpr { kRax, kRcx, kRdx, kRbx, kRsp, kRbp, kRsi, kRdi, kR8, kR9, kR10, kR11, kR12, kR13, kR14, kR15 };

struct CpuState {
  uint64_t rip = 0;
  uint64_t rsp = 0;
  uint64_t rflags = 0x2;
  uint64_t cr0 = 0, cr2 = 0, cr3 = 0, cr4 = 0;
  uint64_t efer = 0;
  SegmentView cs, ds, ss;
  DtrView gdtr, idtr;
  // The mode the engine itself reports, when it knows; otherwise derived (derive_mode).
  std::optional<ExecMode> mode;
  // All GPRs (rsp duplicated in gprs[kRsp]) when the backend can read them: used to name
  // the value a faulting MOV to CR0/CR3/CR4 tried to load.
  std::optional<std::array<uint64_t, 16>> gprs;
};

// The mode implied by CR0.PE/PG, CR4.PAE, EFER.LMA and CS.L (SDM vol. 3, 2.2 and 9.8).
inline ExecMode derive_mode(const CpuState& s) {
  if (!(s.cr0 & 1)) return ExecMode::kReal;
  if (!(s.cr0 & (1ull << 31))) return ExecMode::kProtected;
  if (s.efer & (1ull << 10)) return s.cs.l() ? ExecMode::kLong64 : ExecMode::kCompat;
  return (s.cr4 & (1ull << 5)) ? ExecMode::kPae : ExecMode::kProtectedPaging;
}

inline ExecMode effective_mode(const CpuState& s) { return s.mode.value_or(derive_mode(s)); }

inline const char* to_string(ExecMode m) {
  switch (m) {
    case ExecMode::kReal: return "real mode";
    case ExecMode::kProtected: return "32-bit protected mode, paging off";
    case ExecMode::kProtectedPaging: return "32-bit protected mode, 32-bit paging";
    case ExecMode::kPae: return "32-bit protected mode, PAE paging (not IA-32e)";
    case ExecMode::kCompat: return "IA-32e compatibility mode";
    case ExecMode::kLong64: return "IA-32e 64-bit mode";
  }
  return "?";
}

}  // namespace tdsim::diag
