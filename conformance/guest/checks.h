// The conformance guest's check reporting: one PRINTF ucall per check in the line
// format of conformance_abi.h. Guest-only (freestanding).
#pragma once
#include <stdint.h>

#include "ucall/guest/guest.h"
#include "ucall/guest/tdx_calls.h"

namespace tdsim::conformance {

void pass(const char* name);
void fail(const char* name, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void skip(const char* name, const char* reason);
// pass if got == want, else fail showing both.
void expect_eq(const char* name, uint64_t got, uint64_t want);
// TDX-only checks call this first: true (and a SKIP reported) when not in a TD.
bool skip_unless_td(const char* name);

void boot_checks(uint32_t vcpu);
void tdx_leaf_checks(uint32_t vcpu);
void vmcall_checks();

}  // namespace tdsim::conformance
