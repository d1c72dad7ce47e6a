// The guest runtime's public header: what guest programs (examples/guests,
// tests/guests) include, from C11 or C++. Freestanding: no libc, no host headers; only
// the ABI headers. Guest programs define `void guest_main(uint32_t vcpu)` (C linkage,
// declared here) and end with a ucall (GUEST_DONE); macros mirror the KVM selftests'
// GUEST_* family. The runtime's entry points have C linkage and a tdsim_ prefix; C++
// code also gets the non-variadic ones as tdsim::guest::<name without the prefix>.
#pragma once
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#ifndef __cplusplus
#include <stdbool.h>
#endif

#include "tdsim/abi/guest_config.h"
#include "tdsim/abi/ucall.h"
#include "ucall/guest/printf.h"
#include "ucall/guest/tdcall.h"

#ifdef __cplusplus
namespace tdsim::guest {
#endif

// The vCPU's registers at an exception, as the runtime's IDT stubs save them (general
// registers, then vector, error code and the CPU's frame). An exception handler may change
// any of them; the vCPU resumes with them (set rip past a faulting instruction to skip it).
typedef struct ExRegs {
  uint64_t rax, rcx, rdx, rbx, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t vector, error_code, rip, cs, rflags, rsp, ss;
} ExRegs;
TDSIM_ABI_STATIC_ASSERT(offsetof(ExRegs, vector) == 15 * 8);
TDSIM_ABI_STATIC_ASSERT(sizeof(ExRegs) == 22 * 8);

// What TDG.VP.VEINFO.GET reported for the last #VE tdsim_ve_handler took (on any vCPU).
typedef struct VeRecord {
  uint64_t exit_reason, qualification, gla, gpa, insn_length;
} VeRecord;

#ifdef __cplusplus
}  // namespace tdsim::guest
#define TDSIM_GUEST_ABI(name) ::tdsim::abi::name
#define TDSIM_GUEST_TYPE(name) ::tdsim::guest::name
#define TDSIM_GUEST_NORETURN [[noreturn]]
extern "C" {
#else
#define TDSIM_GUEST_ABI(name) name
#define TDSIM_GUEST_TYPE(name) name
#define TDSIM_GUEST_NORETURN _Noreturn
#endif

// vCPUs whose entry RSP _start records.
#define TDSIM_GUEST_MAX_ENTRY_RSP_VCPUS 64

// Filled in by the host's layout (in .data); read it through the accessors below.
extern TDSIM_GUEST_ABI(GuestConfig) tdsim_guest_config;
// RSP each vCPU had when the stub jumped to _start (0 for vCPUs >= 64).
extern uint64_t tdsim_entry_rsp[TDSIM_GUEST_MAX_ENTRY_RSP_VCPUS];
// 256 IDT entry stubs, kIdtStubStride bytes apart (idt_stubs.S).
extern const char tdsim_idt_stubs[];
// Defined by each guest program; entered on every vCPU with the ABI-aligned stack.
void guest_main(uint32_t vcpu);

void* memcpy(void* dst, const void* src, size_t n);
void* memmove(void* dst, const void* src, size_t n);
void* memset(void* dst, int c, size_t n);
int memcmp(const void* a, const void* b, size_t n);
size_t strlen(const char* s);

// GuestConfig fields, read through volatile accesses.
bool tdsim_config_valid(void);
uint32_t tdsim_nr_vcpus(void);
uint64_t tdsim_ucall_mmio_gpa(void);  // with the shared bit set
uint64_t tdsim_ucall_pool_gva(void);
uint64_t tdsim_shared_bit(void);
uint32_t tdsim_gpaw(void);

// True when CPUID leaf 0x21 says "IntelTDX    " (a TD, or the simulator).
bool tdsim_in_td(void);
// Sends one 8-byte ucall datum: TDG.VP.VMCALL<MMIO> in a TD, a plain MMIO store to the
// untagged GPA otherwise.
void tdsim_ucall_send(uint64_t data);
// Never returns: TDG.VP.VMCALL<HLT> in a TD, otherwise HLT with an empty IDT (so that
// no #VE, interrupt or NMI resumes it), forever.
TDSIM_GUEST_NORETURN void tdsim_halt_forever(void);

// MMIO of 1, 2, 4 or 8 bytes at the untagged GPA `gpa`: TDG.VP.VMCALL<#VE.RequestMMIO>
// with the shared bit set in a TD, a plain access to the identity mapping otherwise (the
// page must be mapped there, like the ucall MMIO page). Return the TDG.VP.VMCALL status
// (R10; always 0 outside a TD); a read stores the value in *value.
uint64_t tdsim_mmio_write(uint64_t gpa, uint32_t size, uint64_t value);
uint64_t tdsim_mmio_read(uint64_t gpa, uint32_t size, uint64_t* value);

// Exception handlers: `handler` runs when the vCPU takes exception `vector` (any vCPU:
// one table serves the TD, as one IDT does); NULL restores the default, which reports
// UCALL_UNHANDLED(vector, error code, RIP) and halts. Every backend delivers exceptions
// through the guest's IDT.
typedef void (*tdsim_exception_handler)(TDSIM_GUEST_TYPE(ExRegs)* regs);
void tdsim_install_exception_handler(uint8_t vector, tdsim_exception_handler handler);

// A #VE (vector 20) handler as a TD guest kernel has one: install it with
// tdsim_install_exception_handler(20, tdsim_ve_handler) and IN/OUT reach the VMM through
// TDG.VP.VMCALL<Instruction.IO>, a CPUID of a leaf the TDX module does not answer through
// TDG.VP.VMCALL<Instruction.CPUID>, RDMSR/WRMSR of a #VE MSR through
// <Instruction.RDMSR/WRMSR> (a refused one is reported as UNHANDLED(13)), HLT through
// <Instruction.HLT>, and a MOV/MOVZX/MOVSX on a shared GPA nothing backs (MMIO) through
// <#VE.RequestMMIO> (mmio_decode.h lists the forms). A #VE for anything else, or an MMIO
// instruction of another form, is reported as unhandled, with the exit reason as the
// error code. An EPT violation on a private GPA (memory touched before
// TDG.MEM.PAGE.ACCEPT) is never made good: UNHANDLED(20) with the exit reason, RIP, and the
// GPA, GLA and qualification in args[3..5] (kUnhandledArgVe*), and the guest stops.
void tdsim_ve_handler(TDSIM_GUEST_TYPE(ExRegs)* regs);
// Copies the #VE information tdsim_ve_handler read last (zeros before the first #VE).
void tdsim_ve_last(TDSIM_GUEST_TYPE(VeRecord)* out);

// args are uint64_t values (cast before passing); at most kUcallMaxArgs are kept.
uint64_t tdsim_ucall(uint64_t cmd, int nargs, ...);
uint64_t tdsim_ucall_array(uint64_t cmd, size_t nargs, const uint64_t* args);
void tdsim_ucall_fmt(uint64_t cmd, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
TDSIM_GUEST_NORETURN void tdsim_ucall_assert(uint64_t cmd, const char* expr, const char* file,
                                             unsigned line, const char* fmt, ...)
    __attribute__((format(printf, 5, 6)));

#ifdef __cplusplus
}  // extern "C"

namespace tdsim::guest {

inline constexpr uint32_t kMaxEntryRspVcpus = TDSIM_GUEST_MAX_ENTRY_RSP_VCPUS;

inline bool config_valid() { return tdsim_config_valid(); }
inline uint32_t nr_vcpus() { return tdsim_nr_vcpus(); }
inline uint64_t ucall_mmio_gpa() { return tdsim_ucall_mmio_gpa(); }
inline uint64_t ucall_pool_gva() { return tdsim_ucall_pool_gva(); }
inline uint64_t shared_bit() { return tdsim_shared_bit(); }
inline uint32_t gpaw() { return tdsim_gpaw(); }
inline bool in_td() { return tdsim_in_td(); }
inline void ucall_send(uint64_t data) { tdsim_ucall_send(data); }
[[noreturn]] inline void halt_forever() { tdsim_halt_forever(); }
inline uint64_t mmio_write(uint64_t gpa, uint32_t size, uint64_t value) {
  return tdsim_mmio_write(gpa, size, value);
}
inline uint64_t mmio_read(uint64_t gpa, uint32_t size, uint64_t* value) {
  return tdsim_mmio_read(gpa, size, value);
}
inline void install_exception_handler(uint8_t vector, tdsim_exception_handler handler) {
  tdsim_install_exception_handler(vector, handler);
}
inline uint64_t ucall_array(uint64_t cmd, size_t nargs, const uint64_t* args) {
  return tdsim_ucall_array(cmd, nargs, args);
}
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
#define GUEST_PRINTF(fmt, ...) tdsim_ucall_fmt(::tdsim::abi::kUcallPrintf, fmt __VA_OPT__(, ) __VA_ARGS__)

#define GUEST_ASSERT_MSG(cond, fmt, ...)                                                \
  do {                                                                                  \
    if (!(cond))                                                                        \
      tdsim_ucall_assert(::tdsim::abi::kUcallAbort, #cond, __FILE__, __LINE__,          \
                         fmt __VA_OPT__(, ) __VA_ARGS__);                               \
  } while (0)

#define GUEST_ASSERT_CMP_(a, b, op, opstr, negstr)                                         \
  do {                                                                                     \
    const auto guest_a_ = (a);                                                             \
    const auto guest_b_ = (b);                                                             \
    if (!(guest_a_ op guest_b_))                                                           \
      tdsim_ucall_assert(::tdsim::abi::kUcallAbort, #a " " opstr " " #b, __FILE__, __LINE__, \
                         "%#lx " negstr " %#lx (%s " negstr " %s)",                        \
                         ::tdsim::guest::to_u64(guest_a_), ::tdsim::guest::to_u64(guest_b_), \
                         #a, #b);                                                          \
  } while (0)

#define GUEST_FAIL(fmt, ...)                                                        \
  tdsim_ucall_assert(::tdsim::abi::kUcallAbort, "Unconditional guest failure", __FILE__, \
                     __LINE__, fmt __VA_OPT__(, ) __VA_ARGS__)

#else  // C

// Each argument of a ucall as the uint64_t the host reads (pointers by address); a
// ucall carries 1 to 7 of them (more fails to compile: no TDSIM_U64_8).
#define TDSIM_NARGS_(_1, _2, _3, _4, _5, _6, _7, n, ...) n
#define TDSIM_NARGS(...) TDSIM_NARGS_(__VA_ARGS__, 7, 6, 5, 4, 3, 2, 1, 0)
#define TDSIM_CAT_(a, b) a##b
#define TDSIM_CAT(a, b) TDSIM_CAT_(a, b)
#define TDSIM_U64_1(a) (uint64_t)(a)
#define TDSIM_U64_2(a, ...) (uint64_t)(a), TDSIM_U64_1(__VA_ARGS__)
#define TDSIM_U64_3(a, ...) (uint64_t)(a), TDSIM_U64_2(__VA_ARGS__)
#define TDSIM_U64_4(a, ...) (uint64_t)(a), TDSIM_U64_3(__VA_ARGS__)
#define TDSIM_U64_5(a, ...) (uint64_t)(a), TDSIM_U64_4(__VA_ARGS__)
#define TDSIM_U64_6(a, ...) (uint64_t)(a), TDSIM_U64_5(__VA_ARGS__)
#define TDSIM_U64_7(a, ...) (uint64_t)(a), TDSIM_U64_6(__VA_ARGS__)
#define TDSIM_U64S(...) TDSIM_CAT(TDSIM_U64_, TDSIM_NARGS(__VA_ARGS__))(__VA_ARGS__)
#define TDSIM_UCALL_ARGS(cmd, ...) \
  tdsim_ucall_array((cmd), TDSIM_NARGS(__VA_ARGS__), (const uint64_t[]){TDSIM_U64S(__VA_ARGS__)})

#define GUEST_SYNC(stage) TDSIM_UCALL_ARGS(kUcallSync, "hello", (stage))
#define GUEST_SYNC_ARGS(...) TDSIM_UCALL_ARGS(kUcallSync, __VA_ARGS__)
#define GUEST_DONE() tdsim_ucall_array(kUcallDone, 0, (const uint64_t*)0)
#define GUEST_PRINTF(fmt, ...) tdsim_ucall_fmt(kUcallPrintf, fmt, ##__VA_ARGS__)

#define GUEST_ASSERT_MSG(cond, fmt, ...)                                                  \
  do {                                                                                    \
    if (!(cond)) tdsim_ucall_assert(kUcallAbort, #cond, __FILE__, __LINE__, fmt, ##__VA_ARGS__); \
  } while (0)

// Both sides keep their own types for the comparison (as C++'s `auto` does).
#define GUEST_ASSERT_CMP_(a, b, op, opstr, negstr)                                            \
  do {                                                                                        \
    const __auto_type guest_a_ = (a);                                                         \
    const __auto_type guest_b_ = (b);                                                         \
    if (!(guest_a_ op guest_b_))                                                              \
      tdsim_ucall_assert(kUcallAbort, #a " " opstr " " #b, __FILE__, __LINE__,                \
                         "%#lx " negstr " %#lx (%s " negstr " %s)", (uint64_t)(guest_a_),     \
                         (uint64_t)(guest_b_), #a, #b);                                       \
  } while (0)

#define GUEST_FAIL(fmt, ...) \
  tdsim_ucall_assert(kUcallAbort, "Unconditional guest failure", __FILE__, __LINE__, fmt, ##__VA_ARGS__)

#endif

// The expression text is passed as an argument, not as the format: it may contain '%'.
#define GUEST_ASSERT(cond) GUEST_ASSERT_MSG(cond, "%s", #cond)
#define GUEST_ASSERT_EQ(a, b) GUEST_ASSERT_CMP_(a, b, ==, "==", "!=")
#define GUEST_ASSERT_NE(a, b) GUEST_ASSERT_CMP_(a, b, !=, "!=", "==")
