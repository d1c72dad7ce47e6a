// guest_vsnprintf: the guest's own printf core (C semantics for the supported subset:
// %d %i %u %x %X %o %c %s %p %%, flags "-0# +", width/precision incl. *, lengths
// hh h l ll z j t). Freestanding: no libc, no other runtime header, so a host unit
// test can check it against the C library's snprintf. C guests call it as
// tdsim_vsnprintf / tdsim_snprintf.
#pragma once
#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
namespace tdsim::guest {

// Always NUL-terminates when size > 0; returns the length the full output would have.
int guest_vsnprintf(char* buf, size_t size, const char* fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
int guest_snprintf(char* buf, size_t size, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

}  // namespace tdsim::guest

extern "C" {
#endif

int tdsim_vsnprintf(char* buf, size_t size, const char* fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
int tdsim_snprintf(char* buf, size_t size, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}  // extern "C"
#endif
