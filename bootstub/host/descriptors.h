// GDT, IDT and TSS contents for the descriptors region: what the stub's LGDT/LIDT load
// and what the guest's exception stubs are reached through. Pure data.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

namespace tdsim {

// Region layout: one page each, so both tables can use the 0xfff limit the selftests use.
inline constexpr uint64_t kGdtOffset = 0x0000;
inline constexpr uint64_t kIdtOffset = 0x1000;
inline constexpr uint64_t kTssOffset = 0x2000;
inline constexpr uint64_t kDescriptorsSize = 0x3000;
inline constexpr uint16_t kGdtLimit = 0xfff;
inline constexpr uint16_t kIdtLimit = 256 * 16 - 1;
inline constexpr uint32_t kTssSize = 104;  // 64-bit TSS, no I/O bitmap

inline constexpr uint64_t kGdtCode64 = 0x00af9b000000ffffull;  // L=1, P, DPL0, exec/read
inline constexpr uint64_t kGdtData = 0x00cf93000000ffffull;    // flat read/write

// The descriptors region's bytes when it sits at `base`. With idt_stubs, vector v's
// interrupt gate (type 0xE, present, DPL0, CS 0x08) targets idt_stubs + 16 * v;
// without, all 256 gates are not present (any exception then triple-faults).
std::vector<uint8_t> build_descriptors(uint64_t base, std::optional<uint64_t> idt_stubs);

}  // namespace tdsim
