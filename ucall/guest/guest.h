// The guest runtime's public header: what guest programs (examples/guests,
// tests/guests) include. Freestanding: no libc, no host headers; only the ABI headers.
// Guest programs define `extern "C" void guest_main(uint32_t vcpu)` and end with a ucall
// (GUEST_DONE); macros mirror the KVM selftests' GUEST_* family.
#pragma once
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "tdsim/abi/guest_config.h"
#include "tdsim/abi/ucall.h"
#include "ucall/guest/printf.h"
#include "ucall/guest/tdcall.h"

namespace tdsim::guest {
inline constexpr uint32_t kMaxEntryRspVcpus = 64;
}

extern "C" {
// Filled in by the host's layout (in .data); read it through the accessors below.
extern tdsim::abi::GuestConfig tdsim_guest_config;
// RSP each vCPU had when the stub jumped to _start (0 for vCPUs >= 64).
extern uint64_t tdsim_entry_rsp[tdsim::guest::kMaxEntryRspVcpus];
// 256 IDT entry stubs, kIdtStubStride bytes apart (idt_stubs.S).
extern const char tdsim_idt_stubs[];
// Defined by each guest program; entered on every vCPU with the ABI-aligned stack.
void guest_main(uint32_t vcpu);

void* memcpy(void* dst, const void* src, size_t n);
void* memmove(void* dst, const void* src, size_t n);
void* memset(void* dst, int c, size_t n);
int memcmp(const void* a, const void* b, size_t n);
size_t strlen(const char* s);
}

namespace tdsim::guest {

// GuestConfig fields, read through volatile accesses.
bool config_valid();
uint32_t nr_vcpus();
uint64_t ucall_mmio_gpa();  // with the shared bit set
uint64_t ucall_pool_gva();
uint64_t shared_bit();
uint32_t gpaw();

// True when CPUID leaf 0x21 says "IntelTDX    " (a TD, or the simulator).
bool in_td();
// Sends one 8-byte ucall datum: TDG.VP.VMCALL<MMIO> in a TD, a plain MMIO store to the
// untagged GPA otherwise.
void ucall_send(uint64_t data);
// Never returns: TDG.VP.VMCALL<HLT> in a TD, HLT otherwise, forever.
[[noreturn]] void halt_forever();

// args are uint64_t values (cast before passing); at most kUcallMaxArgs are kept.
uint64_t ucall(uint64_t cmd, int nargs, ...);
uint64_t ucall_array(uint64_t cmd, size_t nargs, const uint64_t* args);
void ucall_fmt(uint64_t cmd, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
[[noreturn]] void ucall_assert(uint64_t cmd, const char* expr, const char* file, unsigned line,
                  const char* fmt, ...) __attribute__((format(printf, 5, 6)));

// ucall arguments as the host reads them: integers and enums by value, pointers by
// their (identity-mapped) guest address.
template <typename T>
inline uint64_t to_u64(T v) {
  return static_cast<uint64_t>(v);
}
template <typename T>
inline uint64_t to_u64(T* p) {
  return reinterpret_cast<uint64_t>(p);
}
inline uint64_t to_u64(decltype(nullptr)) { return 0; }

// Raw-argument ucall: each argument is converted to uint64_t (pointers by address).
template <typename... Args>
inline uint64_t ucall_args(uint64_t cmd, Args... args) {
  static_assert(sizeof...(Args) <= abi::kUcallMaxArgs, "a ucall carries at most 7 args");
  const uint64_t a[sizeof...(Args) + 1] = {to_u64(args)..., 0};
  return ucall_array(cmd, sizeof...(Args), a);
}

}  // namespace tdsim::guest

#define GUEST_SYNC(stage) ::tdsim::guest::ucall_args(::tdsim::abi::kUcallSync, "hello", (stage))
#define GUEST_SYNC_ARGS(...) ::tdsim::guest::ucall_args(::tdsim::abi::kUcallSync, __VA_ARGS__)
#define GUEST_DONE() ::tdsim::guest::ucall_args(::tdsim::abi::kUcallDone)
#define GUEST_PRINTF(fmt, ...) \
  ::tdsim::guest::ucall_fmt(::tdsim::abi::kUcallPrintf, fmt __VA_OPT__(, ) __VA_ARGS__)

#define GUEST_ASSERT_MSG(cond, fmt, ...)                                                \
  do {                                                                                  \
    if (!(cond))                                                                        \
      ::tdsim::guest::ucall_assert(::tdsim::abi::kUcallAbort, #cond, __FILE__, __LINE__, \
                                   fmt __VA_OPT__(, ) __VA_ARGS__);                     \
  } while (0)
// The expression text is passed as an argument, not as the format: it may contain '%'.
#define GUEST_ASSERT(cond) GUEST_ASSERT_MSG(cond, "%s", #cond)

#define GUEST_ASSERT_CMP_(a, b, op, opstr, negstr)                                        \
  do {                                                                                    \
    const auto guest_a_ = (a);                                                            \
    const auto guest_b_ = (b);                                                            \
    if (!(guest_a_ op guest_b_))                                                          \
      ::tdsim::guest::ucall_assert(::tdsim::abi::kUcallAbort, #a " " opstr " " #b, __FILE__, \
                                   __LINE__, "%#lx " negstr " %#lx (%s " negstr " %s)",   \
                                   ::tdsim::guest::to_u64(guest_a_),                      \
                                   ::tdsim::guest::to_u64(guest_b_), #a, #b);             \
  } while (0)
#define GUEST_ASSERT_EQ(a, b) GUEST_ASSERT_CMP_(a, b, ==, "==", "!=")
#define GUEST_ASSERT_NE(a, b) GUEST_ASSERT_CMP_(a, b, !=, "!=", "==")

#define GUEST_FAIL(fmt, ...)                                                       \
  ::tdsim::guest::ucall_assert(::tdsim::abi::kUcallAbort, "Unconditional guest failure", \
                               __FILE__, __LINE__, fmt __VA_OPT__(, ) __VA_ARGS__)
