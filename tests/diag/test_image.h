// A small, hand-built, valid TdImage for the diag tests: 4-level identity-mapped page
// tables (4 KiB, 2 MiB pages; page 0 unmapped), a GDT with KERNEL_CS 64-bit code, the
// stub assembled from bootstub/stub/td_boot.S's instruction sequence, two vCPUs.
#pragma once
#include <cstdint>

#include "core/td_image.h"

namespace tdsim::diag::test {

inline constexpr uint64_t kPml4 = 0x1000, kPdpt = 0x2000, kPdLow = 0x3000, kPdHigh = 0x4000,
                          kPtLow = 0x5000, kPtHigh = 0x6000;
inline constexpr uint64_t kGdt = 0x8000, kIdt = 0x9000;
inline constexpr uint64_t kStackBase = 0x200000, kStackSize = 0x4000;
inline constexpr uint64_t kGuestCode = 0x400000;
inline constexpr uint64_t kPool = 0x600000;
inline constexpr uint64_t kStubGpa = 0xffffffba;  // 54-byte stub ending at 0xfffffff0
inline constexpr uint64_t kStubLong64 = 0xffffffed;
inline constexpr uint64_t kStubMovCr0 = 0xffffffe3;
inline constexpr uint64_t kStubMovCr4 = 0xffffffd8;
inline constexpr uint64_t kStubLjmp = 0xffffffe6;
inline constexpr uint64_t kGdtCode64 = 0x00af9b000000ffffull;
inline constexpr uint64_t kGdtCode32 = 0x00cf9b000000ffffull;
inline constexpr uint64_t kGdtData = 0x00cf93000000ffffull;
inline constexpr uint64_t kSharedBit = 1ull << 47;

TdImage make_valid_image(uint32_t nr_vcpus = 2);

// Region-byte edits, as a test that mutates an image after build_image() would do.
void poke(TdImage& image, uint64_t gpa, const void* src, uint64_t len);
void poke64(TdImage& image, uint64_t gpa, uint64_t value);
void poke32(TdImage& image, uint64_t gpa, uint32_t value);
uint64_t peek64(const TdImage& image, uint64_t gpa);

// Keep image.boot in step with the params page (so only the rule under test fires).
void sync_boot_copy(TdImage& image);

}  // namespace tdsim::diag::test
