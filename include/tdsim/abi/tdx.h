// TDX guest-host ABI: TDCALL leaves, TDG.VP.VMCALL sub-functions, status codes and the
// architectural initial vCPU state (Intel TDX module ABI, GHCI; restated in
// docs/tdx-abi.md). Freestanding: shared by the guest runtime, the simulator and the KVM
// backend.
// C11 and C++ (lang.h says how the names appear in each).
#pragma once
#include <stdint.h>

#include "tdsim/abi/lang.h"

TDSIM_ABI_BEGIN

#ifdef __cplusplus
// TDCALL is 66 0F 01 CC; RAX = leaf in, completion status out.
inline constexpr uint8_t kTdcallBytes[4] = {0x66, 0x0f, 0x01, 0xcc};
#endif

TDSIM_ABI_ENUM(TdcallLeaf, uint64_t){
  kTdgVpVmcall = 0,
  kTdgVpInfo = 1,
  kTdgMrRtmrExtend = 2,
  kTdgVpVeinfoGet = 3,
  kTdgMrReport = 4,
  kTdgMemPageAccept = 6,
  kTdgVmRd = 7,
  kTdgVmWr = 8,
};

// TDCALL completion status (RAX). Errors have bit 63 set; class in bits 63:32.
TDSIM_ABI_CONST(uint64_t, kTdxSuccess, 0)
TDSIM_ABI_CONST(uint64_t, kTdxOperandInvalid, 0xC000010000000000ull)  // | operand id
TDSIM_ABI_CONST(uint64_t, kTdxOperandBusy, 0x8000020000000000ull)
TDSIM_ABI_CONST(uint64_t, kTdxNoVeInfo, 0xC000070000000000ull)
// #VE (vector 20): what TDG.VP.VEINFO.GET reports for port I/O. The exit reason and the
// exit qualification use VMX's encodings (reason 30, I/O instruction; qualification:
// size - 1 in bits 2:0, bit 3 set for IN, bit 6 set for an immediate port, port in 31:16).
TDSIM_ABI_CONST(uint32_t, kVeVector, 20)
TDSIM_ABI_CONST(uint32_t, kExitReasonIoInstruction, 30)
// Other VMX basic exit reasons a #VE reports (SDM vol. 3C, appendix C).
TDSIM_ABI_CONST(uint32_t, kExitReasonCpuid, 10)
TDSIM_ABI_CONST(uint32_t, kExitReasonHlt, 12)
TDSIM_ABI_CONST(uint32_t, kExitReasonRdmsr, 31)
TDSIM_ABI_CONST(uint32_t, kExitReasonWrmsr, 32)
TDSIM_ABI_CONST(uint32_t, kExitReasonEptViolation, 48)
TDSIM_ABI_CONST(uint64_t, kIoQualIn, 1u << 3)
TDSIM_ABI_CONST(uint64_t, kIoQualImmediate, 1u << 6)
// An EPT violation's exit qualification (SDM vol. 3C, "Exit Qualification for EPT
// Violations"): the access was a data read / a data write; the guest-linear address is
// valid; the access was to the final translation (not to a paging structure).
TDSIM_ABI_CONST(uint64_t, kEptQualRead, 1u << 0)
TDSIM_ABI_CONST(uint64_t, kEptQualWrite, 1u << 1)
TDSIM_ABI_CONST(uint64_t, kEptQualFetch, 1u << 2)
TDSIM_ABI_CONST(uint64_t, kEptQualGlaValid, 1u << 7)
TDSIM_ABI_CONST(uint64_t, kEptQualFinalTranslation, 1u << 8)
TDSIM_ABI_CONST(uint64_t, kTdxStatusClassMask, 0xFFFFFFFF00000000ull)
// Operand ids used with kTdxOperandInvalid.
TDSIM_ABI_CONST(uint64_t, kTdxOperandIdRcx, 1)
// More operand ids: the module numbers operands by GPR index (RAX 0 ... R15 15).
TDSIM_ABI_CONST(uint64_t, kTdxOperandIdRax, 0)
TDSIM_ABI_CONST(uint64_t, kTdxOperandIdRdx, 2)
TDSIM_ABI_CONST(uint64_t, kTdxOperandIdR8, 8)
// GPA operand outside the TD's memory (tdx-module errors.h; see docs/tdx-module-standin.md).
TDSIM_ABI_CONST(uint64_t, kTdxOperandAddrRangeError, 0xC000010100000000ull)  // | operand id
// TDG.MEM.PAGE.ACCEPT: a warning (bit 63 clear) for a page that is already accepted,
// and an error for an accept level larger than the page's mapping (Linux, TDVF).
TDSIM_ABI_CONST(uint64_t, kTdxPageAlreadyAccepted, 0x00000B0A00000000ull)
TDSIM_ABI_CONST(uint64_t, kTdxPageSizeMismatch, 0xC0000B0B00000000ull)

// SEAMCALL statuses of the TD build (TDH.MNG.INIT .. TDH.MR.FINALIZE), as the TDX module
// returns them to the VMM; tdx/td_build.h models the calls (docs/tdx-abi.md, "TD build").
TDSIM_ABI_CONST(uint64_t, kTdxOpStateIncorrect, 0xC000060800000000ull)
TDSIM_ABI_CONST(uint64_t, kTdxNoVcpus, 0xC000060900000000ull)
TDSIM_ABI_CONST(uint64_t, kTdxMaxVcpusExceeded, 0xC000070500000000ull)
TDSIM_ABI_CONST(uint64_t, kTdxEptEntryNotPresent, 0xC0000B0300000000ull)      // | operand id
TDSIM_ABI_CONST(uint64_t, kTdxEptEntryStateIncorrect, 0xC0000B0D00000000ull)  // | operand id

// TDG.VP.INFO / TDG.MR.REPORT sizes and constants.
TDSIM_ABI_CONST(uint64_t, kTdReportSize, 1024)
TDSIM_ABI_CONST(uint64_t, kTdReportAlign, 1024)
TDSIM_ABI_CONST(uint64_t, kReportDataSize, 64)
TDSIM_ABI_CONST(uint64_t, kReportDataAlign, 64)
TDSIM_ABI_CONST(uint8_t, kTdReportTypeTdx, 0x81)
TDSIM_ABI_CONST(uint64_t, kTdReportReportDataOffset, 128)
TDSIM_ABI_CONST(uint64_t, kTdReportMacOffset, 224)
TDSIM_ABI_CONST(uint64_t, kTdReportTdInfoOffset, 512)
TDSIM_ABI_CONST(uint64_t, kTdReportAttributesOffset, 512)
TDSIM_ABI_CONST(uint64_t, kTdReportXfamOffset, 520)
TDSIM_ABI_CONST(uint64_t, kTdReportMrtdOffset, 528)
TDSIM_ABI_CONST(uint64_t, kTdReportMrConfigIdOffset, 576)
TDSIM_ABI_CONST(uint64_t, kTdReportMrOwnerOffset, 624)
TDSIM_ABI_CONST(uint64_t, kTdReportMrOwnerConfigOffset, 672)
TDSIM_ABI_CONST(uint64_t, kTdReportRtmrOffset, 720)  // RTMR0; RTMR i at 720 + 48 * i
TDSIM_ABI_CONST(uint64_t, kRtmrSize, 48)
TDSIM_ABI_CONST(uint64_t, kNumRtmrs, 4)
TDSIM_ABI_CONST(uint64_t, kRtmrExtendAlign, 64)
// TDG.MEM.PAGE.ACCEPT: RCX = GPA | level (bits 2:0: 0 4K, 1 2M, 2 1G).
TDSIM_ABI_CONST(uint64_t, kAcceptLevelMask, 0x7)

// TDG.VP.VMCALL: RCX is the GPR expose mask (bit n = GPR n, RAX=0 ... R15=15).
TDSIM_ABI_CONST(uint64_t, kVmcallExposeR10toR15, 0xFC00)
// Bits the module refuses: RAX, RCX, RSP, and RBP because KVM creates TDs with NO_RBP_MOD.
TDSIM_ABI_CONST(uint64_t, kVmcallForbiddenExposeBits, (1u << 0) | (1u << 1) | (1u << 4) | (1u << 5))
TDSIM_ABI_CONST(uint64_t, kVmcallReservedExposeBits, 0xFFFFFFFF00000000ull)

// R10 = 0 selects a GHCI standard call; R11 = sub-function.
TDSIM_ABI_CONST(uint64_t, kVmcallStandard, 0)
TDSIM_ABI_ENUM(VmcallSubfn, uint64_t){
  kVmcallCpuid = 10,
  kVmcallHlt = 12,
  kVmcallIo = 30,
  kVmcallRdmsr = 31,
  kVmcallWrmsr = 32,
  kVmcallRequestMmio = 48,
  kVmcallGetTdVmCallInfo = 0x10000,
  kVmcallMapGpa = 0x10001,
  kVmcallGetQuote = 0x10002,
  kVmcallReportFatalError = 0x10003,
  kVmcallSetupEventNotifyInterrupt = 0x10004,
};

// TDG.VP.VMCALL status, returned in R10.
TDSIM_ABI_CONST(uint64_t, kVmcallSuccess, 0)
TDSIM_ABI_CONST(uint64_t, kVmcallRetry, 1)
TDSIM_ABI_CONST(uint64_t, kVmcallInvalidOperand, 0x8000000000000000ull)
TDSIM_ABI_CONST(uint64_t, kVmcallAlignError, 0x8000000000000002ull)
TDSIM_ABI_CONST(uint64_t, kVmcallSubfnUnsupported, 0x8000000000000003ull)

// Instruction.IO direction (R13) uses the same encoding: 0 in/read, 1 out/write.
// GetTdVmCallInfo leaves (R12).
TDSIM_ABI_CONST(uint64_t, kGetTdVmCallInfoLeaf0, 0)
TDSIM_ABI_CONST(uint64_t, kGetTdVmCallInfoLeaf1, 1)

TDSIM_ABI_CONST(uint64_t, kMmioRead, 0)
TDSIM_ABI_CONST(uint64_t, kMmioWrite, 1)

// Architectural initial state of every TD vCPU (TDH.VP.INIT + TD VMCS init).
TDSIM_ABI_CONST(uint64_t, kTdInitRip, 0xfffffff0)
TDSIM_ABI_CONST(uint64_t, kTdInitRflags, 0x2)
TDSIM_ABI_CONST(uint64_t, kTdInitCr0, 0x21)     // PE | NE, paging off
TDSIM_ABI_CONST(uint64_t, kTdInitCr4, 0x40)     // MCE as the guest reads it (VMXE hidden)
TDSIM_ABI_CONST(uint64_t, kTdInitEfer, 0x901)   // SCE | LME | NXE, LMA clear
TDSIM_ABI_CONST(uint16_t, kTdInitCodeAr, 0xC09B)  // flat 32-bit code, accessed
TDSIM_ABI_CONST(uint16_t, kTdInitDataAr, 0xC093)  // flat data, accessed
TDSIM_ABI_CONST(uint64_t, kTdInitGdtrLimit, 0xFFFF)
TDSIM_ABI_CONST(uint64_t, kTdInitDr7, 0x400)

// Control-register bits the boot checks care about.
TDSIM_ABI_CONST(uint64_t, kCr0Pe, 1u << 0)
TDSIM_ABI_CONST(uint64_t, kCr0Et, 1u << 4)
TDSIM_ABI_CONST(uint64_t, kCr0Ne, 1u << 5)
TDSIM_ABI_CONST(uint64_t, kCr0Pg, 1u << 31)
TDSIM_ABI_CONST(uint64_t, kCr4Pae, 1u << 5)
TDSIM_ABI_CONST(uint64_t, kCr4Mce, 1u << 6)
TDSIM_ABI_CONST(uint64_t, kCr4Osfxsr, 1u << 9)
TDSIM_ABI_CONST(uint64_t, kCr4La57, 1u << 12)
TDSIM_ABI_CONST(uint64_t, kCr4Vmxe, 1u << 13)
TDSIM_ABI_CONST(uint64_t, kCr4Smxe, 1u << 14)
TDSIM_ABI_CONST(uint64_t, kCr4Osxsave, 1u << 18)
TDSIM_ABI_CONST(uint64_t, kEferLme, 1u << 8)
TDSIM_ABI_CONST(uint64_t, kEferLma, 1u << 10)

// CR4 bits TDX fixes: MCE must read 1, VMXE and SMXE must be 0.
TDSIM_ABI_CONST(uint64_t, kTdxCr4Fixed1, kCr4Mce)
TDSIM_ABI_CONST(uint64_t, kTdxCr4Fixed0, kCr4Vmxe | kCr4Smxe)

#ifdef __cplusplus
inline constexpr uint64_t shared_bit_for_gpaw(uint32_t gpaw) { return 1ull << (gpaw - 1); }
#else
static inline uint64_t shared_bit_for_gpaw(uint32_t gpaw) { return 1ull << (gpaw - 1); }
#endif

TDSIM_ABI_END
