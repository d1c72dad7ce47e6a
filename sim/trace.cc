#include "trace.h"

#include <fmt/format.h>

#include "tdsim/abi/td_boot.h"
#include "tdsim/abi/tdx.h"
#include "tdx/tdx_module.h"

namespace tdsim::sim {

const char* tdcall_leaf_name(uint64_t leaf) {
  switch (leaf) {
    case abi::kTdgVpVmcall: return "TDG.VP.VMCALL";
    case abi::kTdgVpInfo: return "TDG.VP.INFO";
    case abi::kTdgMrRtmrExtend: return "TDG.MR.RTMR.EXTEND";
    case abi::kTdgVpVeinfoGet: return "TDG.VP.VEINFO.GET";
    case abi::kTdgMrReport: return "TDG.MR.REPORT";
    case abi::kTdgMemPageAccept: return "TDG.MEM.PAGE.ACCEPT";
    case abi::kTdgVmRd: return "TDG.VM.RD";
    case abi::kTdgVmWr: return "TDG.VM.WR";
  }
  return "unknown leaf";
}

const char* vmcall_subfn_name(uint64_t subfn) { return tdx::TdxModule::subfn_name(subfn); }

std::string format_tdcall(uint32_t vcpu, uint64_t rip, const ucall::TdcallRegs& in,
                          const ucall::TdcallRegs& out, const std::optional<Event>& event) {
  std::string s = fmt::format("vcpu {} tdcall {:#x}: {}", vcpu, rip, tdcall_leaf_name(in.rax));
  if (in.rax == abi::kTdgVpVmcall) {
    if (in.r10 != abi::kVmcallStandard) {
      s += fmt::format(" KVM hypercall R10={:#x} RCX={:#x} (expose mask) -> R10={:#x}", in.r10, in.rcx, out.r10);
    } else {
      s += fmt::format("<{}> RCX={:#x} (expose mask) R11={:#x} (sub-function)", vmcall_subfn_name(in.r11),
                       in.rcx, in.r11);
      if (in.r11 == abi::kVmcallRequestMmio)
        s += fmt::format(" R12={} (size) R13={} ({}) R14={:#x} (GPA) R15={:#x} (value)", in.r12, in.r13,
                         in.r13 == abi::kMmioWrite ? "write" : "read", in.r14, in.r15);
      s += fmt::format(" -> RAX={:#x} R10={:#x} R11={:#x}", out.rax, out.r10, out.r11);
    }
  } else {
    s += fmt::format(" RCX={:#x} RDX={:#x} R8={:#x} -> RAX={:#x}", in.rcx, in.rdx, in.r8, out.rax);
  }
  if (event) s += " => " + describe(*event);
  return s;
}

std::vector<std::string> format_stub_coverage(const StubCoverage& cov, const TdImage& image) {
  std::vector<std::string> out;
  // The reset vector is JMP rel8 + INT3; the bytes after it are padding, not code.
  const uint64_t begin = image.stub_gpa, end = abi::kResetVector + 3;
  const Region* r = image.region_at(begin);
  if (!r) return {fmt::format("stub coverage: no region holds the stub at {:#x}", begin)};
  auto byte_at = [&](uint64_t a) -> uint8_t {
    const uint64_t off = a - r->gpa;
    return off < r->bytes.size() ? r->bytes[off] : 0;
  };
  size_t ran = 0, total = 0;
  diag::CpuMode mode = diag::CpuMode::k32;
  for (uint64_t a = begin; a < end;) {
    if (auto it = cov.executed.find(a); it != cov.executed.end()) mode = it->second;
    uint8_t buf[15];
    const uint64_t n = std::min<uint64_t>(sizeof buf, end - a);
    for (uint64_t i = 0; i < n; ++i) buf[i] = byte_at(a + i);
    const diag::Insn insn = diag::disassemble_one(std::span<const uint8_t>(buf, n), a, mode);
    const bool hit = cov.executed.count(a) != 0;
    ran += hit;
    ++total;
    std::string sym;
    for (const Symbol& s : image.symbols)
      if (s.addr == a) sym = s.name;
    if (!sym.empty()) out.push_back(sym + ":");
    out.push_back(fmt::format("{} {}", hit ? "+" : "-", diag::format_insn(insn)));
    a += insn.size ? insn.size : 1;
  }
  out.push_back(fmt::format("stub coverage: {} of {} instructions ran ('-' never ran)", ran, total));
  return out;
}

}  // namespace tdsim::sim
