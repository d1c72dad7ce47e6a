#include "bootstub/host/descriptors.h"

#include <cstring>

#include "tdsim/abi/guest_config.h"
#include "tdsim/abi/td_boot.h"

namespace tdsim {
namespace {

void put64(std::vector<uint8_t>& out, uint64_t off, uint64_t v) { std::memcpy(out.data() + off, &v, 8); }

// 16-byte system descriptor for an available 64-bit TSS (type 9).
void put_tss_descriptor(std::vector<uint8_t>& out, uint64_t off, uint64_t base) {
  const uint64_t limit = kTssSize - 1;
  const uint64_t low = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x9ull << 40) | (1ull << 47) |
                       (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
  put64(out, off, low);
  put64(out, off + 8, base >> 32);
}

void put_interrupt_gate(std::vector<uint8_t>& out, uint64_t off, uint64_t target) {
  const uint64_t low = (target & 0xffff) | (uint64_t{abi::kKernelCs} << 16) | (0x8eull << 40) |
                       (((target >> 16) & 0xffff) << 48);
  put64(out, off, low);
  put64(out, off + 8, target >> 32);
}

}  // namespace

std::vector<uint8_t> build_descriptors(uint64_t base, std::optional<uint64_t> idt_stubs) {
  std::vector<uint8_t> out(kDescriptorsSize, 0);
  put64(out, kGdtOffset + abi::kKernelCs, kGdtCode64);
  put64(out, kGdtOffset + abi::kKernelDs, kGdtData);
  put_tss_descriptor(out, kGdtOffset + abi::kKernelTss, base + kTssOffset);
  if (idt_stubs)
    for (uint64_t v = 0; v < 256; ++v)
      put_interrupt_gate(out, kIdtOffset + 16 * v, *idt_stubs + abi::kIdtStubStride * v);
  // TSS: RSP0/IST all 0 (no privilege changes, no IST); the I/O map base points past the
  // limit, meaning "no I/O permission bitmap".
  const uint16_t iomap = kTssSize;
  std::memcpy(out.data() + kTssOffset + 0x66, &iomap, 2);
  return out;
}

}  // namespace tdsim
