#include "checks.h"

#include "conformance/conformance_abi.h"

namespace tdsim::conformance {

void pass(const char* name) { GUEST_PRINTF("%sok %s", kLinePrefix, name); }

void fail(const char* name, const char* fmt, ...) {
  char why[400];
  va_list ap;
  va_start(ap, fmt);
  guest::guest_vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  GUEST_PRINTF("%snot ok %s # %s", kLinePrefix, name, why);
}

void skip(const char* name, const char* reason) {
  GUEST_PRINTF("%sskip %s # %s", kLinePrefix, name, reason);
}

void expect_eq(const char* name, uint64_t got, uint64_t want) {
  if (got == want)
    pass(name);
  else
    fail(name, "got %#lx, want %#lx", got, want);
}

bool skip_unless_td(const char* name) {
  if (guest::in_td()) return false;
  skip(name, "not a TD: CPUID 0x21 does not report IntelTDX");
  return true;
}

}  // namespace tdsim::conformance
