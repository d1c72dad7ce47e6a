#include "diag/disasm.h"

#include <capstone/capstone.h>
#include <fmt/format.h>

#include <stdexcept>

namespace tdsim::diag {
namespace {

struct TdxOpcode {
  uint8_t last;  // after 66 0F 01
  const char* mnemonic;
};
// Capstone 4.0.2 cannot decode these (docs/engine-quirks.md, "Capstone and the TDX
// opcodes"); all are 66 0F 01 xx, length 4.
constexpr TdxOpcode kTdxTable[] = {
    {0xcc, "tdcall"}, {0xcd, "seamret"}, {0xce, "seamops"}, {0xcf, "seamcall"}};

csh open_handle(cs_mode mode) {
  csh h = 0;
  cs_err err = cs_open(CS_ARCH_X86, mode, &h);
  if (err != CS_ERR_OK)
    throw std::runtime_error(fmt::format("cs_open(CS_ARCH_X86, {}): {}",
                                         mode == CS_MODE_64 ? "CS_MODE_64" : "CS_MODE_32",
                                         cs_strerror(err)));
  return h;
}

}  // namespace

struct Disassembler::Handles {
  csh m32 = 0, m64 = 0;
  ~Handles() {
    if (m32) cs_close(&m32);
    if (m64) cs_close(&m64);
  }
};

Disassembler::Disassembler() : h_(std::make_unique<Handles>()) {
  h_->m32 = open_handle(CS_MODE_32);
  h_->m64 = open_handle(CS_MODE_64);
}

Disassembler::~Disassembler() = default;

Insn Disassembler::decode(std::span<const uint8_t> bytes, uint64_t addr, CpuMode mode) const {
  Insn out;
  out.addr = addr;
  if (bytes.size() >= 4 && bytes[0] == 0x66 && bytes[1] == 0x0f && bytes[2] == 0x01) {
    for (const TdxOpcode& op : kTdxTable) {
      if (bytes[3] != op.last) continue;
      out.size = 4;
      out.mnemonic = op.mnemonic;
      out.bytes.assign(bytes.begin(), bytes.begin() + 4);
      return out;
    }
  }
  if (!bytes.empty()) {
    cs_insn* insn = nullptr;
    csh h = mode == CpuMode::k64 ? h_->m64 : h_->m32;
    size_t n = cs_disasm(h, bytes.data(), bytes.size(), addr, 1, &insn);
    if (n == 1) {
      out.size = insn->size;
      out.mnemonic = insn->mnemonic;
      out.operands = insn->op_str;
      out.bytes.assign(insn->bytes, insn->bytes + insn->size);
      cs_free(insn, n);
      return out;
    }
    if (n) cs_free(insn, n);
  }
  out.mnemonic = "(bad)";
  out.size = bytes.empty() ? 0 : 1;
  if (!bytes.empty()) out.bytes.push_back(bytes[0]);
  return out;
}

Insn disassemble_one(std::span<const uint8_t> bytes, uint64_t addr, CpuMode mode) {
  thread_local Disassembler d;
  return d.decode(bytes, addr, mode);
}

std::vector<Insn> disassemble_range(std::span<const uint8_t> bytes, uint64_t addr, CpuMode mode,
                                    size_t max_insns) {
  std::vector<Insn> out;
  size_t off = 0;
  while (off < bytes.size() && out.size() < max_insns) {
    out.push_back(disassemble_one(bytes.subspan(off), addr + off, mode));
    off += out.back().size;
  }
  return out;
}

CodeScan scan_code(std::span<const uint8_t> bytes, uint64_t addr, CpuMode mode) {
  // One pair of handles and one instruction buffer per thread: no allocation per call.
  struct Scanner {
    csh m32 = open_handle(CS_MODE_32), m64 = open_handle(CS_MODE_64);
    cs_insn* insn = cs_malloc(m64);
    ~Scanner() {
      cs_free(insn, 1);
      cs_close(&m32);
      cs_close(&m64);
    }
  };
  thread_local Scanner sc;
  if (!sc.insn) throw std::runtime_error("cs_malloc: out of memory");
  CodeScan out;
  const csh h = mode == CpuMode::k64 ? sc.m64 : sc.m32;
  size_t off = 0;
  while (off < bytes.size()) {
    out.last = addr + off;
    ++out.count;
    const uint8_t* b = bytes.data() + off;
    const size_t left = bytes.size() - off;
    if (left >= 4 && b[0] == 0x66 && b[1] == 0x0f && b[2] == 0x01 && b[3] >= 0xcc && b[3] <= 0xcf) {
      off += 4;  // kTdxTable
      continue;
    }
    const uint8_t* code = b;
    size_t size = left;
    uint64_t at = addr + off;
    if (!cs_disasm_iter(h, &code, &size, &at, sc.insn)) {
      out.undecodable = true;
      off += 1;
      continue;
    }
    switch (sc.insn->id) {
      case X86_INS_PAUSE:
        out.pause = true;
        break;
      case X86_INS_IN:
      case X86_INS_OUT:
      case X86_INS_INSB:
      case X86_INS_INSW:
      case X86_INS_INSD:
      case X86_INS_OUTSB:
      case X86_INS_OUTSW:
      case X86_INS_OUTSD:
        out.port_io = true;
        break;
      case X86_INS_CPUID:
      case X86_INS_RDMSR:
      case X86_INS_WRMSR:
      // What the TDX module's dispatcher makes a #VE or #UD (tdx/td_instructions.h) and
      // an engine would run or refuse on its own terms.
      case X86_INS_INVD:
      case X86_INS_WBINVD:
      case X86_INS_VMCALL:
      case X86_INS_MONITOR:
      case X86_INS_MWAIT:
      case X86_INS_GETSEC:
      case X86_INS_ENCLS:
      case X86_INS_VMFUNC:
      case X86_INS_VMLAUNCH:
      case X86_INS_VMRESUME:
      case X86_INS_VMXOFF:
      case X86_INS_VMXON:
      case X86_INS_VMCLEAR:
      case X86_INS_VMPTRLD:
      case X86_INS_VMPTRST:
      case X86_INS_VMREAD:
      case X86_INS_VMWRITE:
      case X86_INS_INVEPT:
      case X86_INS_INVVPID:
        out.may_ve = true;
        break;
      default:
        break;
    }
    off += sc.insn->size;
  }
  return out;
}

std::string format_insn(const Insn& insn) {
  std::string hex;
  for (uint8_t b : insn.bytes) hex += fmt::format("{:02x} ", b);
  std::string text = insn.operands.empty() ? insn.mnemonic : insn.mnemonic + " " + insn.operands;
  return fmt::format("{:#x}: {:<24}{}", insn.addr, hex, text);
}

}  // namespace tdsim::diag
