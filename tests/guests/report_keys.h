// GUEST_SYNC_ARGS layouts of the small test guests (assert, smp, private_gpa_ucall,
// unhandled_ud), shared by the freestanding guests and the host tests. args[0] is
// always one of these keys. Must not depend on anything but <stdint.h>.
#pragma once
#include <stdint.h>

namespace tdsim::test::reports {

// assert.cc: (kAssertLine, line of the failing GUEST_ASSERT_EQ), then the ABORT.
inline constexpr uint64_t kAssertLine = 0xa55e7000;
inline constexpr char kAssertExpression[] = "answer == 42";
// vCPU 0: answer = 41 + vcpu.
inline constexpr char kAssertMessageVcpu0[] = "0x29 != 0x2a (answer != 42)";

// smp.cc: (kSmpArrived, vcpu), then after the barrier (kSmpReleased, vcpu, counter).
inline constexpr uint64_t kSmpArrived = 0x5e0a0001;
inline constexpr uint64_t kSmpReleased = 0x5e0a0002;
// Spin iterations before the barrier gives up with GUEST_FAIL.
inline constexpr uint64_t kSmpSpinLimit = 50'000'000;

// private_gpa_ucall.cc: (kPrivateGpaResult, TDG.VP.VMCALL status R10, TDCALL RAX,
// the private GPA used).
inline constexpr uint64_t kPrivateGpaResult = 0x9a1e0001;

// bad_ucall_address.cc sends this as the ucall datum: not guest memory.
inline constexpr uint64_t kBadUcallAddress = 0x7f0000000000ull;

// cpuid_report.cc: (kCpuidLeaf1Eax, CPUID(1).EAX), then DONE.
inline constexpr uint64_t kCpuidLeaf1Eax = 0xc9d10001;

// selftest_pattern.cc: (kPatternBefore, vcpu, value), (kPatternAfter, vcpu, value),
// then GUEST_ASSERT_EQ(value, kPatternHostValue) and DONE.
inline constexpr uint64_t kPatternBefore = 0x5e1f0001;
inline constexpr uint64_t kPatternAfter = 0x5e1f0002;
inline constexpr uint64_t kPatternHostValue = 0xfeedf00dcafe0042ull;
inline constexpr char kPatternSymbol[] = "tdsim_test_host_value";

// patched_code.cc: (kPatchBefore, f()), (kPatchAfter, f()), DONE; f is kPatchSymbol.
inline constexpr uint64_t kPatchBefore = 0x9a7c0001;
inline constexpr uint64_t kPatchAfter = 0x9a7c0002;
inline constexpr char kPatchSymbol[] = "tdsim_test_patch_me";

// unhandled_ud.cc: (kUdSite, address of the UD2) before executing it.
inline constexpr uint64_t kUdSite = 0x0d2e0001;

// mr_report.cc: TDG.MR.REPORT into this 1024-byte global, then DONE.
inline constexpr char kTdreportSymbol[] = "tdsim_test_tdreport";

}  // namespace tdsim::test::reports
