#include "diag/guest_view.h"

#include <algorithm>

#include "tdsim/abi/tdx.h"

namespace tdsim::diag {

std::optional<abi::TdBootParams> read_boot_params(const GuestMemory& mem) {
  abi::TdBootParams p{};
  if (!mem.read(abi::kTdBootParamsGpa, &p, sizeof(p))) return std::nullopt;
  return p;
}

uint64_t per_vcpu_gpa(uint32_t index) {
  return abi::kTdBootParamsGpa + abi::kTdPerVcpuOffset + uint64_t(index) * sizeof(abi::TdPerVcpuParams);
}

std::optional<abi::TdPerVcpuParams> read_per_vcpu(const GuestMemory& mem, uint32_t index) {
  abi::TdPerVcpuParams p{};
  if (!mem.read(per_vcpu_gpa(index), &p, sizeof(p))) return std::nullopt;
  return p;
}

WalkParams walk_params(const TdImage& image, uint64_t cr3, uint64_t gva, Access access,
                       uint64_t cr0, uint64_t cr4) {
  WalkParams p;
  p.cr3 = cr3;
  p.gva = gva;
  p.access = access;
  p.maxphyaddr = image.gpaw;
  p.shared_bit = image.shared_bit;
  p.nxe = abi::kTdInitEfer & (1u << 11);
  p.wp = cr0 & (1u << 16);
  p.la57 = cr4 & (1u << 12);
  return p;
}

bool read_linear(const GuestMemory& mem, const TdImage& image, const LinearView& view,
                 uint64_t la, void* dst, uint64_t len) {
  auto* out = static_cast<uint8_t*>(dst);
  while (len) {
    uint64_t n = std::min<uint64_t>(len, 4096 - (la & 0xfff));
    uint64_t pa = la;
    if (view.paging) {
      WalkResult w = page_walk(mem, walk_params(image, view.cr3, la, Access::kRead, view.cr0, view.cr4));
      if (!w.ok()) return false;
      pa = w.untagged_gpa(image.shared_bit);
    }
    if (!mem.read(pa, out, n)) return false;
    la += n, out += n, len -= n;
  }
  return true;
}

std::optional<uint64_t> read_gdt_entry(const GuestMemory& mem, const TdImage& image,
                                       const LinearView& view, uint64_t gdt_base,
                                       uint16_t gdt_limit, uint16_t selector) {
  uint64_t off = selector & ~7u;
  if (off + 7 > gdt_limit) return std::nullopt;
  uint64_t raw = 0;
  if (!read_linear(mem, image, view, gdt_base + off, &raw, 8)) return std::nullopt;
  return raw;
}

bool idt_gate_present(const GuestMemory& mem, const TdImage& image, const LinearView& view, uint64_t idt_base,
                      uint16_t idt_limit, uint8_t vector) {
  // 64-bit gates are 16 bytes; the P bit is bit 7 of byte 5 (bit 47).
  const uint64_t off = uint64_t{vector} * 16;
  if (off + 15 > idt_limit) return false;
  uint8_t gate[16] = {};
  return read_linear(mem, image, view, idt_base + off, gate, sizeof gate) && (gate[5] & 0x80);
}

}  // namespace tdsim::diag
