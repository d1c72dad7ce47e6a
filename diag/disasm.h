// One-instruction x86 disassembly for traces and fault reports. Capstone 4 does not know
// the TDX opcodes (TDCALL, SEAMRET/SEAMOPS/SEAMCALL) and stops or desynchronises at them,
// so those are matched first from a table. Depends on Capstone only; no engine, no image.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cpu_state.h"

namespace tdsim::diag {

enum class CpuMode { k32, k64 };

// How to decode the code a CPU in state `s` runs: 64-bit only in 64-bit mode.
inline CpuMode code_mode(const CpuState& s) { return effective_mode(s) == ExecMode::kLong64 ? CpuMode::k64 : CpuMode::k32; }

struct Insn {
  uint64_t addr = 0;
  uint32_t size = 0;  // bytes consumed; 1 for "(bad)" so a linear sweep can resync
  std::string mnemonic;
  std::string operands;
  std::vector<uint8_t> bytes;  // exactly `size` bytes

  bool bad() const { return mnemonic == "(bad)"; }
};

// Owns one Capstone handle per mode. Not thread-safe; give each thread its own.
class Disassembler {
 public:
  Disassembler();
  ~Disassembler();
  Disassembler(const Disassembler&) = delete;
  Disassembler& operator=(const Disassembler&) = delete;

  Insn decode(std::span<const uint8_t> bytes, uint64_t addr, CpuMode mode) const;

 private:
  struct Handles;
  std::unique_ptr<Handles> h_;
};

// decode() with a thread-local Disassembler.
Insn disassemble_one(std::span<const uint8_t> bytes, uint64_t addr, CpuMode mode);

// Decodes [bytes) from addr on, one instruction at a time, at most max_insns.
std::vector<Insn> disassemble_range(std::span<const uint8_t> bytes, uint64_t addr, CpuMode mode,
                                    size_t max_insns = SIZE_MAX);

// What an engine's instruction accounting needs of a run of code, without building an
// Insn per instruction: how many instructions [bytes) holds, where the last one starts,
// whether any is port I/O (IN, OUT, INS, OUTS), and whether some bytes could not be
// decoded (counted one instruction per byte, as decode() does).
struct CodeScan {
  uint32_t count = 0;
  uint64_t last = 0;
  bool port_io = false;
  bool may_ve = false;  // CPUID, RDMSR, WRMSR, WBINVD, MWAIT, ...: a TD's CPU may raise #VE or #UD for them
  bool undecodable = false;
  bool pause = false;  // a PAUSE: the block is a spin-wait's
};
CodeScan scan_code(std::span<const uint8_t> bytes, uint64_t addr, CpuMode mode);

// "0xffffffba: fa                      cli"
std::string format_insn(const Insn& insn);

}  // namespace tdsim::diag
