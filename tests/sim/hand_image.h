// Hand-made TdImages for the Unicorn backend tests, independent of the layout module:
// 32-bit code at the stub page reached from the reset vector, optional 64-bit code, an
// identity map with 2 MiB pages whose ucall-pool entry carries the shared bit, and a
// ucall pool the host pre-fills. Addresses are shared with guest_code.cc's assembly.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/td_image.h"
#include "guest_code.h"

namespace tdsim::simtest {

inline constexpr uint64_t kPageTables = 0x10000;   // PML4, PDPT, PD 0-1 GiB, PD 3-4 GiB
inline constexpr uint64_t kData = 0x20000;         // probe output and config cells
inline constexpr uint64_t kGdt = 0x30000;
inline constexpr uint64_t kStacks = 0x80000;       // 4 KiB per vCPU
inline constexpr uint64_t kCode = 0x100000;        // 64-bit test code
inline constexpr uint64_t kPool = 0x200000;        // its own 2 MiB page, S-bit in the PDE
inline constexpr uint64_t kStub = 0xfffff000;
inline constexpr uint64_t kUcallMmio = 0x8000000;  // unbacked
inline constexpr uint64_t kOtherMmio = 0x9000000;  // unbacked, not the ucall GPA
inline constexpr uint64_t kSharedBit = 1ull << 47;

// Config cells the 64-bit code reads (kData + ...).
inline constexpr uint64_t kCellUcallGpa = 0x100;    // kUcallMmio | S
inline constexpr uint64_t kCellOtherGpa = 0x108;    // kOtherMmio | S
inline constexpr uint64_t kCellPrivateGpa = 0x110;  // kUcallMmio without S
inline constexpr uint64_t kCellBenchCount = 0x118;
inline constexpr uint64_t kCellGdtr = 0x200;
inline constexpr uint64_t kCellOut = 0x300;         // results the code stores

uint64_t slot_gpa(int slot);

// stub32: placed at kStub (the reset vector jumps to it). code64: placed at kCode.
TdImage make_image(const Blob& stub32, const Blob& code64 = {}, uint32_t nr_vcpus = 1);
// The common stub: GDT, PAE, CR3, CR0.PG (no EFER write), far jump, RSP per vCPU, kCode.
TdImage make_boot_image(const Blob& code64, uint32_t nr_vcpus = 1);

void set_slot(TdImage& image, int slot, abi::UcallCmd cmd, const std::string& text = {},
              std::vector<uint64_t> args = {});

void set_bench_count(TdImage& image, uint64_t n);
uint64_t read_u64(const std::vector<uint8_t>& page, uint64_t off);
std::vector<std::string> describe_all(const std::vector<Event>& events);

}  // namespace tdsim::simtest
