// GUEST_SYNC_ARGS keys and constants shared by the hostile guests (tests/hostile/guests)
// and their host tests. Must not depend on anything but <stdint.h>.
#pragma once
#include <stdint.h>

namespace tdsim::test::hostile {

// ucall_pointers.cc: vCPU 0 sends this datum (just past the 4 GiB stub page: unbacked).
inline constexpr uint64_t kPastFourGiB = 0x100000000ull;
// vCPU 1 sends mem_size - kStraddle (the struct runs off the end of low RAM); vCPU 2
// sends the ucall MMIO GPA itself (the unbacked hole).
inline constexpr uint64_t kStraddle = 16;

// bad_strings.cc: vCPU 0's ABORT has this file pointer (nothing there); vCPU 1's file
// string is kLongStringLen non-NUL bytes (longer than the host's 4096-byte limit).
inline constexpr uint64_t kWildFilePointer = 0xdead0000000ull;
inline constexpr uint64_t kLongStringLen = 5000;
// vCPU 2 sends a PRINTF whose 1024-byte buffer has no NUL.

// tdcall_storm.cc: this many rejected TDCALLs (an unimplemented leaf), then DONE.
inline constexpr uint64_t kStormCount = 20000;
inline constexpr uint64_t kStormLeaf = 0x7f;
inline constexpr uint64_t kStormDone = 0x570a0001;  // (key, TDCALLs made, last RAX)

// self_modify.cc: (kSmcResult, before, after) — the results of one function called
// before and after the guest rewrote its immediate; expected 1 then 2.
inline constexpr uint64_t kSmcResult = 0x5e1f0001;

// clobber_boot.cc: (kParamsClobbered) after overwriting the whole boot-params page,
// then (kTablesNext, pml4 GPA) right before zeroing the PML4 and reloading CR3.
inline constexpr uint64_t kParamsClobbered = 0xc10b0001;
inline constexpr uint64_t kTablesNext = 0xc10b0002;

// output_bytes.cc: strings meant to break the host's printers: bytes that are not
// UTF-8, terminal escapes (clear screen, window title, bell), CR/LF with forged tdsim
// and KTAP lines after them, DEL and a literal "\x41" that must not read as 'A'.
// vCPU 0 PRINTFs kHostileText then sends DONE; vCPU 1 fails an assert whose expression,
// file and message are all hostile; vCPU 2 sends ReportFatalError with a 16-byte
// message in R14/R15 (kFatalR14/kFatalR15, little-endian); vCPU 3 halts.
inline constexpr char kHostileText[] =
    "\xff|\xc3(|\x1b[2J\x1b]0;pwned\x07|\r\ntdsim: DONE on unicorn after 1 events (exit 0)\n"
    "\rok 1 vcpu1\r# \\x41\\\\|\x7f\x01";
inline constexpr char kHostileExpr[] = "\x1b[31mx == 1\xff";
inline constexpr char kHostileFile[] = "f\rile\xc3(.cc";
inline constexpr uint64_t kHostileLine = 42;
inline constexpr uint64_t kFatalR14 = 0x0a0dff3b305d1b1bull;  // "\x1b\x1b]0;\xff\r\n"
inline constexpr uint64_t kFatalR15 = 0x28c35c07312b6b6full;  // "ok+1\x07\\\xc3("

}  // namespace tdsim::test::hostile
