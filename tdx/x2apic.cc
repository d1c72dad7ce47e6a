#include "x2apic.h"

namespace tdsim::tdx {

namespace {

constexpr uint64_t kMasked = 1u << 16;        // an LVT entry's mask bit, set at reset
constexpr uint64_t kVersion = 0x50014;        // version 0x14, 6 LVT entries (max LVT 5)

}  // namespace

std::optional<uint64_t> x2apic_reset_value(uint64_t msr, uint32_t vcpu) {
  switch (msr) {
    case 0x802: return vcpu;                                            // x2APIC ID
    case 0x803: return kVersion;
    case 0x808: case 0x80a: return 0;                                   // TPR, PPR
    case 0x80d: return (uint64_t{vcpu >> 4} << 16) | (1u << (vcpu & 0xf));  // LDR: cluster, bit
    case 0x80f: return 0xff;                                            // SVR: disabled, vector 0xff
    case 0x828: return 0;                                               // ESR
    case 0x82f: case 0x832: case 0x833: case 0x834: case 0x835: case 0x836: case 0x837:
      return kMasked;                                                   // LVT CMCI, timer ... error
    case 0x830: return 0;                                               // ICR
    case 0x838: case 0x839: case 0x83e: return 0;                       // timer counts, divide
    default: break;
  }
  if (msr >= 0x810 && msr <= 0x827) return 0;  // ISR, TMR, IRR
  return std::nullopt;
}

bool x2apic_writable(uint64_t msr) {
  switch (msr) {
    case 0x808: case 0x80b: case 0x80f: case 0x828: case 0x82f: case 0x830: case 0x832: case 0x833:
    case 0x834: case 0x835: case 0x836: case 0x837: case 0x838: case 0x83e: case 0x83f:
      return true;
    default: return false;
  }
}

bool x2apic_keeps_writes(uint64_t msr) { return x2apic_writable(msr) && msr != 0x80b && msr != 0x83f; }

}  // namespace tdsim::tdx
