#include "guest_virtual.h"

#include <algorithm>

namespace tdsim::sim {

namespace {
constexpr uint64_t kCr0Pg = 1ull << 31;
constexpr uint64_t kCr0Wp = 1ull << 16;
constexpr uint64_t kEferNxe = 1ull << 11;
constexpr uint64_t kCr4La57 = 1ull << 12;
constexpr uint64_t kPage = 4096;
}  // namespace

std::optional<uint64_t> translate_gva(uc_engine* uc, const GuestMemory& mem, uint64_t gva,
                                      diag::Access access) {
  uint64_t cr0 = 0, cr3 = 0, cr4 = 0;
  uc_x86_msr efer{0xc0000080, 0};
  // One call for the four: the TDCALL and TD-instruction hooks translate at every hit,
  // and each uc_reg_read is an entry into the engine.
  int ids[] = {UC_X86_REG_CR0, UC_X86_REG_CR3, UC_X86_REG_CR4, UC_X86_REG_MSR};
  void* vals[] = {&cr0, &cr3, &cr4, &efer};
  if (uc_reg_read_batch(uc, ids, vals, 4) != UC_ERR_OK) return std::nullopt;
  if (!(cr0 & kCr0Pg)) return gva;
  // The engine walks the folded tables (no shared bit: core/shared_bit_fold.h), so the
  // walk does too.
  diag::WalkParams p;
  p.cr3 = cr3;
  p.gva = gva;
  p.access = access;
  p.shared_bit = 0;
  p.nxe = efer.value & kEferNxe;
  p.wp = cr0 & kCr0Wp;
  p.la57 = cr4 & kCr4La57;
  const diag::WalkResult r = diag::page_walk(mem, p);
  if (!r.ok()) return std::nullopt;
  return r.gpa;
}

bool read_gva(uc_engine* uc, const GuestMemory& mem, uint64_t gva, void* dst, uint64_t len,
              diag::Access access) {
  auto* out = static_cast<uint8_t*>(dst);
  while (len) {
    const uint64_t n = std::min(len, kPage - (gva & (kPage - 1)));
    const auto gpa = translate_gva(uc, mem, gva, access);
    if (!gpa || !mem.read(*gpa, out, n)) return false;
    gva += n;
    out += n;
    len -= n;
  }
  return true;
}

}  // namespace tdsim::sim
