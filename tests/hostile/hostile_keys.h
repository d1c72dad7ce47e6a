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

}  // namespace tdsim::test::hostile
