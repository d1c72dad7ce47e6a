// What the boot_state guest reports, shared by the guest (freestanding) and host tests.
// Each report is one GUEST_SYNC_ARGS(key, value, vcpu): args[kArgKey] = a BootStateKey,
// args[kArgValue] = the value as the guest saw it right after the stub, args[kArgVcpu]
// = the vCPU index guest_main received. Must not depend on anything but <stdint.h>.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace tdsim::test::boot_state {

inline constexpr size_t kArgKey = 0;
inline constexpr size_t kArgValue = 1;
inline constexpr size_t kArgVcpu = 2;

// Far from small integers and guest addresses, so other SYNCs cannot be mistaken for these.
enum BootStateKey : uint64_t {
  kCr0 = 0xb0075000,
  kCr3,
  kCr4,
  kEfer,            // RDMSR 0xC0000080
  kGdtrBase,        // SGDT
  kGdtrLimit,
  kIdtrBase,        // SIDT
  kIdtrLimit,
  kCs,              // segment selectors
  kDs,
  kEs,
  kSs,
  kFs,
  kGs,
  kRflags,          // at guest_main entry (IF must still be 0)
  kEntryRsp,        // RSP the stub handed _start (tdsim_entry_rsp[vcpu])
  kEntryRspAbiOk,   // 1 if (entry RSP + 8) % 16 == 0, as right after a CALL
  kVcpuIndex,       // the vCPU index guest_main received (RSI from the TDX module)
};
inline constexpr BootStateKey kFirstKey = kCr0;
inline constexpr BootStateKey kLastKey = kVcpuIndex;
inline constexpr size_t kNumKeys = kLastKey - kFirstKey + 1;

}  // namespace tdsim::test::boot_state
