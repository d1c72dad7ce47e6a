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

std::string format_insn(const Insn& insn) {
  std::string hex;
  for (uint8_t b : insn.bytes) hex += fmt::format("{:02x} ", b);
  std::string text = insn.operands.empty() ? insn.mnemonic : insn.mnemonic + " " + insn.operands;
  return fmt::format("{:#x}: {:<24}{}", insn.addr, hex, text);
}

}  // namespace tdsim::diag
