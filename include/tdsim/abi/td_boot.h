// Boot-parameters block ABI shared by the host layout, the boot stub and guest code.
// Byte-compatible with the KVM selftests TDX boot ABI (v9+ layout). Freestanding: no
// host headers, no exceptions; the stub's assembly offsets are generated from these
// structs (bootstub/gen_boot_offsets.cc), never hand-copied. C11 and C++ (lang.h says
// how the names appear in each).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "tdsim/abi/lang.h"

TDSIM_ABI_BEGIN

TDSIM_ABI_CONST(uint32_t, kTdBootParamsGpa, 0xffff0000u)
TDSIM_ABI_CONST(uint32_t, kResetVector, 0xfffffff0u)
TDSIM_ABI_CONST(uint32_t, kResetVectorSize, 16)
TDSIM_ABI_CONST(uint64_t, kFourGiB, 0x100000000ull)

// The reset vector holds a hand-written JMP rel8 back into the stub, then INT3.
TDSIM_ABI_CONST(uint8_t, kJmpRel8Opcode, 0xeb)
TDSIM_ABI_CONST(uint8_t, kInt3Opcode, 0xcc)
// rel8 is signed and relative to the end of the 2-byte JMP, so the stub plus the JMP
// itself may span at most 128 bytes.
TDSIM_ABI_CONST(uint32_t, kMaxStubSize, 128 - 2)

TDSIM_ABI_CONST(uint16_t, kKernelCs, 0x08)
TDSIM_ABI_CONST(uint16_t, kKernelDs, 0x10)
TDSIM_ABI_CONST(uint16_t, kKernelTss, 0x18)

// Packed because it is the exact m16&32 memory operand of LGDT/LIDT in 32-bit mode.
typedef struct __attribute__((packed)) TdBootDtr {
  uint16_t limit;
  uint32_t base;
} TdBootDtr;

typedef struct TdPerVcpuParams {
  uint32_t esp_gva;  // top of stack - 8, below 4 GiB: loaded by 32-bit code
  uint32_t pad;
  uint64_t guest_code;  // 64-bit entry point, reached by an indirect JMP (no CALL)
} TdPerVcpuParams;

// Header only: the per-vCPU array follows at kTdPerVcpuOffset, indexed by the TDX
// VCPU_INDEX the module hands the vCPU in ESI.
typedef struct __attribute__((aligned(8))) TdBootParams {
  uint32_t cr0;
  uint32_t cr3;
  uint32_t cr4;
  TdBootDtr gdtr;
  TdBootDtr idtr;
} TdBootParams;

TDSIM_ABI_CONST(size_t, kTdPerVcpuOffset, sizeof(TdBootParams))

TDSIM_ABI_STATIC_ASSERT(sizeof(TdBootDtr) == 6);
TDSIM_ABI_STATIC_ASSERT(offsetof(TdBootDtr, base) == 2);
TDSIM_ABI_STATIC_ASSERT(sizeof(TdPerVcpuParams) == 16);
TDSIM_ABI_STATIC_ASSERT(offsetof(TdPerVcpuParams, esp_gva) == 0);
TDSIM_ABI_STATIC_ASSERT(offsetof(TdPerVcpuParams, guest_code) == 8);
TDSIM_ABI_STATIC_ASSERT(offsetof(TdBootParams, cr0) == 0);
TDSIM_ABI_STATIC_ASSERT(offsetof(TdBootParams, cr3) == 4);
TDSIM_ABI_STATIC_ASSERT(offsetof(TdBootParams, cr4) == 8);
TDSIM_ABI_STATIC_ASSERT(offsetof(TdBootParams, gdtr) == 12);
TDSIM_ABI_STATIC_ASSERT(offsetof(TdBootParams, idtr) == 18);
TDSIM_ABI_STATIC_ASSERT(kTdPerVcpuOffset == 24);

// How many per-vCPU entries one 4 KiB params page holds.
TDSIM_ABI_CONST(uint32_t, kMaxVcpusPerParamsPage, (4096 - kTdPerVcpuOffset) / sizeof(TdPerVcpuParams))
TDSIM_ABI_STATIC_ASSERT(kMaxVcpusPerParamsPage == 254);

TDSIM_ABI_END
