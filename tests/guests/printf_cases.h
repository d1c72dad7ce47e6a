// The printf_cases guest PRINTFs these cases in order; host tests check each expected
// string against the C library's snprintf (so the table itself is verified) and against
// what the guest sent. Freestanding: used by guest and host code alike.
// X(expected, format, args...) -- every argument already has its exact C type.
#pragma once
#include <stddef.h>
#include <stdint.h>

#define TDSIM_PRINTF_CASES(X)                                                        \
  X("42", "%d", 42)                                                                  \
  X("-42", "%i", -42)                                                                \
  X("4294967295", "%u", 4294967295u)                                                 \
  X("ff|FF", "%x|%X", 255u, 255u)                                                    \
  X("777", "%o", 511u)                                                               \
  X("0x1f|0X1F|017", "%#x|%#X|%#o", 31u, 31u, 15u)                                   \
  X("0|0", "%#x|%#o", 0u, 0u)                                                        \
  X("[   42]", "[%5d]", 42)                                                          \
  X("[42   ]", "[%-5d]", 42)                                                         \
  X("[00042]", "[%05d]", 42)                                                         \
  X("[-0042]", "[%05d]", -42)                                                        \
  X("[+42] [ 42] [+00042]", "[%+d] [% d] [%+06d]", 42, 42, 42)                       \
  X("[  007] [007  ]", "[%5.3d] [%-5.3d]", 7, 7)                                     \
  X("[] [    ]", "[%.0d] [%4.0d]", 0, 0)                                            \
  X("[  ab] [ab  ]", "[%*x] [%*x]", 4, 0xabu, -4, 0xabu)                             \
  X("[005] [5]", "[%.*d] [%.*d]", 3, 5, -1, 5)                                       \
  X("[    0x10] [0x000010]", "[%#8x] [%#08x]", 16u, 16u)                             \
  X("-1 255 -1 65535", "%hhd %hhu %hd %hu", static_cast<signed char>(-1),             \
    static_cast<unsigned char>(255), static_cast<short>(-1),                         \
    static_cast<unsigned short>(65535))                                              \
  X("-9223372036854775808 18446744073709551615", "%ld %llu",                         \
    static_cast<long>(-9223372036854775807L - 1), 18446744073709551615ull)           \
  X("ffffffffffffffff|1777777777777777777777", "%lx|%lo", ~0ul, ~0ul)                \
  X("123 -5 -7", "%zu %jd %td", static_cast<size_t>(123), static_cast<intmax_t>(-5), \
    static_cast<ptrdiff_t>(-7))                                                      \
  X("[x] [  y] [z  ]", "[%c] [%3c] [%-3c]", 'x', 'y', 'z')                           \
  X("[abc] [  abc] [abc  ] [ab] [   ab]", "[%s] [%5s] [%-5s] [%.2s] [%5.*s]", "abc", \
    "abc", "abc", "abc", 2, "abc")                                                   \
  X("[0x1234] [    0x1234] [(nil)]", "[%p] [%10p] [%p]",                             \
    reinterpret_cast<void*>(0x1234), reinterpret_cast<void*>(0x1234),                \
    static_cast<void*>(nullptr))                                                     \
  X("100%", "100%%")                                                                 \
  X("vcpu 3 of 4: ok", "vcpu %u of %u: %s", 3u, 4u, "ok")

namespace tdsim::test::printf_cases {

// After the table: one PRINTF whose output (1100 chars) exceeds the 1024-byte ucall
// buffer; the guest must deliver its first 1023 characters, NUL-terminated.
inline constexpr char kTruncationFormat[] = "%-1100d|";
inline constexpr int kTruncationArg = 7;
inline constexpr size_t kTruncationFullLength = 1101;

}  // namespace tdsim::test::printf_cases
