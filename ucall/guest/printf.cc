// guest_vsnprintf: the subset of C printf that guest messages need, with C semantics
// (checked against the host's snprintf by tests/guests). Freestanding: no libc.
// Always NUL-terminates when size > 0 and returns the length the full output would have.
#include "ucall/guest/printf.h"

#include <stdint.h>

namespace tdsim::guest {
namespace {

struct Out {
  char* buf;
  size_t size;
  size_t len = 0;  // characters produced so far, written or not
  void put(char c) {
    if (len + 1 < size) buf[len] = c;
    ++len;
  }
  void repeat(char c, int n) {
    for (int i = 0; i < n; ++i) put(c);
  }
};

struct Spec {
  bool left = false, zero = false, alt = false, space = false, plus = false;
  int width = 0;
  int precision = -1;  // -1: not given
};

enum class Length { kNone, kHH, kH, kL, kLL, kZ, kJ, kT };

void emit_padded(Out& out, const Spec& s, const char* text, int n) {
  const int pad = s.width > n ? s.width - n : 0;
  if (!s.left) out.repeat(' ', pad);
  for (int i = 0; i < n; ++i) out.put(text[i]);
  if (s.left) out.repeat(' ', pad);
}

void emit_string(Out& out, const Spec& s, const char* str) {
  if (str == nullptr) str = "(null)";  // glibc's choice
  int n = 0;
  while (str[n] != '\0' && (s.precision < 0 || n < s.precision)) ++n;
  emit_padded(out, s, str, n);
}

// Integers: [sign|prefix][zeros][digits], padded to width with spaces or zeros.
void emit_integer(Out& out, const Spec& s, uint64_t magnitude, bool negative, bool is_signed,
                  unsigned base, bool upper, bool is_pointer) {
  char digits[24];
  int nd = 0;
  const char* set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  for (uint64_t v = magnitude; v != 0; v /= base) digits[nd++] = set[v % base];
  // Precision 0 with value 0 prints no digits at all (C11 7.21.6.1).
  if (magnitude == 0 && s.precision != 0) digits[nd++] = '0';

  char sign = 0;
  if (is_signed) sign = negative ? '-' : (s.plus ? '+' : (s.space ? ' ' : 0));
  const char* prefix = "";
  if ((s.alt || is_pointer) && base == 16 && magnitude != 0) prefix = upper ? "0X" : "0x";
  int zeros = s.precision > nd ? s.precision - nd : 0;
  // '#' with 'o' forces a leading 0 digit, by raising the precision if needed.
  if (s.alt && base == 8 && zeros == 0 && (nd == 0 || digits[nd - 1] != '0')) zeros = 1;

  int prefix_len = 0;
  while (prefix[prefix_len] != '\0') ++prefix_len;
  int body = (sign ? 1 : 0) + prefix_len + zeros + nd;
  // The 0 flag is ignored with '-' or with an explicit precision.
  if (s.zero && !s.left && s.precision < 0 && s.width > body) {
    zeros += s.width - body;
    body = s.width;
  }
  const int pad = s.width > body ? s.width - body : 0;
  if (!s.left) out.repeat(' ', pad);
  if (sign) out.put(sign);
  for (int i = 0; i < prefix_len; ++i) out.put(prefix[i]);
  out.repeat('0', zeros);
  while (nd > 0) out.put(digits[--nd]);
  if (s.left) out.repeat(' ', pad);
}

int parse_number(const char*& p) {
  int n = 0;
  while (*p >= '0' && *p <= '9') {
    if (n < 100000) n = n * 10 + (*p - '0');  // saturate: widths that large are nonsense
    ++p;
  }
  return n;
}

}  // namespace

int guest_vsnprintf(char* buf, size_t size, const char* fmt, va_list ap) {
  Out out{buf, size};
  for (const char* p = fmt; *p != '\0'; ++p) {
    if (*p != '%') {
      out.put(*p);
      continue;
    }
    const char* start = p++;
    Spec s;
    for (;; ++p) {
      if (*p == '-') s.left = true;
      else if (*p == '0') s.zero = true;
      else if (*p == '#') s.alt = true;
      else if (*p == ' ') s.space = true;
      else if (*p == '+') s.plus = true;
      else break;
    }
    if (*p == '*') {
      s.width = va_arg(ap, int);
      if (s.width < 0) {  // a negative * width means '-' flag
        s.left = true;
        s.width = s.width == -2147483647 - 1 ? 2147483647 : -s.width;
      }
      ++p;
    } else {
      s.width = parse_number(p);
    }
    if (*p == '.') {
      ++p;
      if (*p == '*') {
        s.precision = va_arg(ap, int);
        if (s.precision < 0) s.precision = -1;  // negative * precision = not given
        ++p;
      } else {
        s.precision = parse_number(p);
      }
    }
    Length len = Length::kNone;
    if (p[0] == 'h' && p[1] == 'h') len = Length::kHH, p += 2;
    else if (p[0] == 'h') len = Length::kH, ++p;
    else if (p[0] == 'l' && p[1] == 'l') len = Length::kLL, p += 2;
    else if (p[0] == 'l') len = Length::kL, ++p;
    else if (p[0] == 'z') len = Length::kZ, ++p;
    else if (p[0] == 'j') len = Length::kJ, ++p;
    else if (p[0] == 't') len = Length::kT, ++p;

    const bool wide = len == Length::kL || len == Length::kLL || len == Length::kZ ||
                      len == Length::kJ || len == Length::kT;
    switch (*p) {
      case 'd':
      case 'i': {
        int64_t v = wide ? va_arg(ap, int64_t) : va_arg(ap, int);
        if (len == Length::kHH) v = static_cast<signed char>(v);
        if (len == Length::kH) v = static_cast<short>(v);
        const uint64_t mag = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
        emit_integer(out, s, mag, v < 0, true, 10, false, false);
        break;
      }
      case 'u':
      case 'x':
      case 'X':
      case 'o': {
        uint64_t v = wide ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
        if (len == Length::kHH) v = static_cast<unsigned char>(v);
        if (len == Length::kH) v = static_cast<unsigned short>(v);
        const unsigned base = *p == 'o' ? 8 : (*p == 'u' ? 10 : 16);
        emit_integer(out, s, v, false, false, base, *p == 'X', false);
        break;
      }
      case 'p': {
        const void* ptr = va_arg(ap, void*);
        if (ptr == nullptr) {
          Spec str = s;
          str.precision = -1;
          emit_string(out, str, "(nil)");  // glibc's choice
        } else {
          emit_integer(out, s, reinterpret_cast<uintptr_t>(ptr), false, false, 16, false, true);
        }
        break;
      }
      case 'c': {
        const char c = static_cast<char>(va_arg(ap, int));
        emit_padded(out, s, &c, 1);
        break;
      }
      case 's':
        emit_string(out, s, va_arg(ap, const char*));
        break;
      case '%':
        out.put('%');
        break;
      default:
        // Unknown or truncated conversion: print it as written rather than guess.
        for (const char* q = start; q <= p && *q != '\0'; ++q) out.put(*q);
        if (*p == '\0') --p;
        break;
    }
  }
  if (size > 0) buf[out.len < size ? out.len : size - 1] = '\0';
  return out.len > 2147483647u ? 2147483647 : static_cast<int>(out.len);
}

int guest_snprintf(char* buf, size_t size, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int n = guest_vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}

}  // namespace tdsim::guest

// The same functions for C guests (C linkage, no namespace).
extern "C" int tdsim_vsnprintf(char* buf, size_t size, const char* fmt, va_list ap) {
  return tdsim::guest::guest_vsnprintf(buf, size, fmt, ap);
}

extern "C" int tdsim_snprintf(char* buf, size_t size, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int n = tdsim::guest::guest_vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}
