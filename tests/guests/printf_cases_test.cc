// The printf case table is checked against the host C library, and the guest's
// formatter (ucall/guest/printf.cc, pure freestanding code, compiled here for the host)
// against the same table and against snprintf's truncation rules.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "tests/guests/printf_cases.h"
#include "ucall/guest/printf.h"

namespace pc = tdsim::test::printf_cases;

// Format strings are literals from the table; -Wformat-security does not apply.
#pragma GCC diagnostic ignored "-Wformat-security"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
// Truncation and flag combinations are exactly what these tests exercise.
#pragma GCC diagnostic ignored "-Wformat"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

namespace {

template <typename... Args>
std::string host_format(const char* fmt, Args... args) {
  char buf[2048];
  std::snprintf(buf, sizeof(buf), fmt, args...);
  return buf;
}

template <typename... Args>
std::string guest_format(const char* fmt, Args... args) {
  char buf[2048];
  tdsim::guest::guest_snprintf(buf, sizeof(buf), fmt, args...);
  return buf;
}

}  // namespace


TEST(PrintfCases, ExpectedStringsAreWhatTheHostLibcPrints) {
#define CHECK_HOST(expected, fmt, ...) \
  EXPECT_EQ(host_format(fmt __VA_OPT__(, ) __VA_ARGS__), expected) << "format \"" << fmt << "\"";
  TDSIM_PRINTF_CASES(CHECK_HOST)
#undef CHECK_HOST
}

TEST(GuestPrintf, MatchesEveryCase) {
#define CHECK_GUEST(expected, fmt, ...) \
  EXPECT_EQ(guest_format(fmt __VA_OPT__(, ) __VA_ARGS__), expected) << "format \"" << fmt << "\"";
  TDSIM_PRINTF_CASES(CHECK_GUEST)
#undef CHECK_GUEST
}

TEST(GuestPrintf, TruncatesToTheUcallBufferLikeSnprintf) {
  char guest[1024], host[1024];
  const int gn = tdsim::guest::guest_snprintf(guest, sizeof(guest), pc::kTruncationFormat,
                                              pc::kTruncationArg);
  const int hn = std::snprintf(host, sizeof(host), pc::kTruncationFormat, pc::kTruncationArg);
  EXPECT_EQ(gn, static_cast<int>(pc::kTruncationFullLength));
  EXPECT_EQ(gn, hn);
  EXPECT_EQ(std::string(guest), std::string(host));
  EXPECT_EQ(std::string(guest).size(), sizeof(guest) - 1);
}

TEST(GuestPrintf, NeverWritesPastTheBufferAndAlwaysTerminates) {
  char buf[8];
  std::memset(buf, 'Z', sizeof(buf));
  EXPECT_EQ(tdsim::guest::guest_snprintf(buf, 5, "%s", "abcdefgh"), 8);
  EXPECT_STREQ(buf, "abcd");
  EXPECT_EQ(buf[5], 'Z');

  std::memset(buf, 'Z', sizeof(buf));
  EXPECT_EQ(tdsim::guest::guest_snprintf(buf, 1, "%d", 12345), 5);
  EXPECT_EQ(buf[0], '\0');
  EXPECT_EQ(buf[1], 'Z');

  EXPECT_EQ(tdsim::guest::guest_snprintf(nullptr, 0, "%x", 0x1234u), 4);
}

TEST(GuestPrintf, ZeroFlagIsIgnoredWithPrecisionOrMinus) {
  EXPECT_EQ(guest_format("[%05.1d]", 42), host_format("[%05.1d]", 42));
  EXPECT_EQ(guest_format("[%-05d]", 42), host_format("[%-05d]", 42));
  EXPECT_EQ(guest_format("[%08.3x]", 0xabu), host_format("[%08.3x]", 0xabu));
}

TEST(GuestPrintf, MatchesHostOnEdgeValues) {
  EXPECT_EQ(guest_format("%d|%i", -2147483647 - 1, 2147483647), host_format("%d|%i", -2147483647 - 1, 2147483647));
  EXPECT_EQ(guest_format("%hhx|%hx", 0x1ff, 0x1ffff), host_format("%hhx|%hx", 0x1ff, 0x1ffff));
  EXPECT_EQ(guest_format("%#lo|%#lX", 8ul, 0xdeadbeeful), host_format("%#lo|%#lX", 8ul, 0xdeadbeeful));
  EXPECT_EQ(guest_format("%.0x|%#.0x|%#.0o", 0u, 0u, 0u), host_format("%.0x|%#.0x|%#.0o", 0u, 0u, 0u));
  EXPECT_EQ(guest_format("%+5d|% 5d|%-+5d|", 3, -3, 3), host_format("%+5d|% 5d|%-+5d|", 3, -3, 3));
  EXPECT_EQ(guest_format("%-10p|", reinterpret_cast<void*>(0xabc)),
            host_format("%-10p|", reinterpret_cast<void*>(0xabc)));
  EXPECT_EQ(guest_format("%*d|%-*d|", 6, -12, 6, -12), host_format("%*d|%-*d|", 6, -12, 6, -12));
}

TEST(GuestPrintf, PrintsUnknownConversionsVerbatim) {
  EXPECT_EQ(guest_format("a%qb"), "a%qb");
  EXPECT_EQ(guest_format("end%"), "end%");
}
