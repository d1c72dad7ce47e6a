// Guest side: decoding the instruction behind an MMIO #VE (mmio_decode.h). Only what
// the handler acts on is decoded: operand sizes from 66 and REX.W, the register from
// ModRM.reg and REX.R, and the length from ModRM, SIB, displacement and immediate.
#include "ucall/guest/mmio_decode.h"

namespace tdsim::guest {
namespace {

constexpr uint32_t kMaxInsn = 15;

bool segment_or_size_prefix(uint8_t b) {
  return b == 0x66 || b == 0x67 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x26 || b == 0x64 || b == 0x65;
}

// Bytes that ModRM (at `at`) and what follows it (SIB, displacement) take; 0 for a
// register operand (mod 3: no memory, so never MMIO).
uint32_t modrm_bytes(const uint8_t* b, uint32_t at, uint32_t avail) {
  if (at >= avail) return 0;
  const uint8_t modrm = b[at];
  const uint8_t mod = modrm >> 6, rm = modrm & 7;
  if (mod == 3) return 0;
  uint32_t n = 1;
  uint8_t base = rm;
  if (rm == 4) {  // SIB
    if (at + 1 >= avail) return 0;
    base = b[at + 1] & 7;
    ++n;
  }
  if (mod == 1) n += 1;
  else if (mod == 2) n += 4;
  else if (rm == 5 || (rm == 4 && base == 5)) n += 4;  // RIP-relative, or SIB without a base
  return n;
}

}  // namespace

MmioInsn decode_mmio_insn(const uint8_t* b, uint32_t avail) {
  MmioInsn out;
  if (avail > kMaxInsn) avail = kMaxInsn;
  uint32_t i = 0;
  bool opsize16 = false;
  while (i < avail && segment_or_size_prefix(b[i])) opsize16 |= b[i++] == 0x66;
  uint8_t rex = 0;
  if (i < avail && (b[i] & 0xf0) == 0x40) rex = b[i++];
  if (i >= avail) return out;
  const bool rex_w = rex & 8;
  const uint8_t operand = rex_w ? 8 : opsize16 ? 2 : 4;
  uint8_t op = b[i++];
  bool two_byte = false;
  if (op == 0x0f) {
    if (i >= avail) return out;
    op = b[i++];
    two_byte = true;
  }
  MmioInsn::Kind kind = MmioInsn::kInvalid;
  uint8_t size = 0, reg_size = 0;
  uint32_t imm_bytes = 0;
  if (!two_byte) {
    switch (op) {
      case 0x88: kind = MmioInsn::kWrite; size = 1; break;
      case 0x89: kind = MmioInsn::kWrite; size = operand; break;
      case 0x8a: kind = MmioInsn::kRead; size = reg_size = 1; break;
      case 0x8b: kind = MmioInsn::kRead; size = reg_size = operand; break;
      case 0xc6: kind = MmioInsn::kWriteImm; size = 1; imm_bytes = 1; break;
      case 0xc7: kind = MmioInsn::kWriteImm; size = operand; imm_bytes = operand == 2 ? 2 : 4; break;
      default: return out;
    }
  } else {
    switch (op) {
      case 0xb6: kind = MmioInsn::kReadZeroExtend; size = 1; break;
      case 0xb7: kind = MmioInsn::kReadZeroExtend; size = 2; break;
      case 0xbe: kind = MmioInsn::kReadSignExtend; size = 1; break;
      case 0xbf: kind = MmioInsn::kReadSignExtend; size = 2; break;
      default: return out;
    }
    reg_size = operand;
  }
  const uint32_t m = modrm_bytes(b, i, avail);
  if (m == 0) return out;
  const uint8_t modrm = b[i];
  if (kind == MmioInsn::kWriteImm && ((modrm >> 3) & 7) != 0) return out;  // C6/C7 /0 only
  uint8_t reg = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0);
  i += m;
  if (i + imm_bytes > avail) return out;
  uint64_t imm = 0;
  for (uint32_t k = 0; k < imm_bytes; ++k) imm |= static_cast<uint64_t>(b[i + k]) << (8 * k);
  i += imm_bytes;
  if (imm_bytes == 4 && size == 8 && (imm >> 31)) imm |= 0xffffffff00000000ull;  // imm32 sign-extended
  // Byte registers 4..7 are AH, CH, DH, BH unless a REX prefix is present.
  const bool byte_reg = (kind == MmioInsn::kWrite || kind == MmioInsn::kRead) && size == 1;
  out.high_byte = byte_reg && rex == 0 && reg >= 4 && reg <= 7;
  if (out.high_byte) reg -= 4;
  out.kind = kind;
  out.size = size;
  out.reg_size = reg_size;
  out.length = static_cast<uint8_t>(i);
  out.reg = reg;
  out.imm = imm;
  return out;
}

}  // namespace tdsim::guest
