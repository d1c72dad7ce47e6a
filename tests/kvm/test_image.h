// Hand-made TdImages for the KVM backend tests, used until the layout module's
// build_image() exists: a GDT page, 4-level page tables (2 MiB pages, the ucall pool's
// entry carrying the TDX shared bit), a shared ucall pool and a stub page at 0xfffff000
// assembled from tests/kvm/asm/*.S (addresses in asm/layout.inc).
#pragma once
#include <cstdint>
#include <string>

#include "core/td_image.h"
#include "tdsim/abi/ucall.h"

namespace tdsim::kvmtest {

inline constexpr uint64_t kGdtGpa = 0x1000;
inline constexpr uint64_t kPml4Gpa = 0x2000;
inline constexpr uint64_t kPoolGpa = 0x200000;
inline constexpr uint64_t kSlot0 = kPoolGpa + 8;
inline constexpr uint64_t kSlot1 = kSlot0 + sizeof(abi::Ucall);
inline constexpr uint64_t kUcallMmio = 0x10000000;
inline constexpr uint64_t kDataMmio = 0x10001000;
inline constexpr uint64_t kSharedBit = 1ull << 47;

// An image whose stub page is `stub` (4096 bytes); slots 0 and 1 of the pool are DONE.
TdImage make_test_image(const unsigned char* stub, unsigned long stub_size, uint32_t nr_vcpus = 1);

// Sets pool slot `slot` (0-based) to `cmd` with `text` in its buffer.
void set_slot(TdImage& image, unsigned slot, abi::UcallCmd cmd, const std::string& text = "");

}  // namespace tdsim::kvmtest
