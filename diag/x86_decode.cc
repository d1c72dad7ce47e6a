#include "diag/x86_decode.h"

#include <fmt/format.h>

#include <utility>

namespace tdsim::diag {
namespace {

using BitName = std::pair<int, const char*>;

template <size_t N>
std::string decode_bits(uint64_t v, const BitName (&names)[N]) {
  std::string s = fmt::format("{:#x} =", v);
  uint64_t known = 0;
  for (const auto& [bit, name] : names) {
    known |= 1ull << bit;
    if (v & (1ull << bit)) s += fmt::format(" {}", name);
  }
  if (v & ~known) s += fmt::format(" (+{:#x})", v & ~known);
  if (v == 0) s += " none";
  return s;
}

}  // namespace

std::string decode_cr0(uint64_t cr0) {
  static constexpr BitName names[] = {{0, "PE"},  {1, "MP"},  {2, "EM"},  {3, "TS"},
                                      {4, "ET"},  {5, "NE"},  {16, "WP"}, {18, "AM"},
                                      {29, "NW"}, {30, "CD"}, {31, "PG"}};
  return decode_bits(cr0, names);
}

std::string decode_cr4(uint64_t cr4) {
  static constexpr BitName names[] = {
      {0, "VME"},       {1, "PVI"},    {2, "TSD"},    {3, "DE"},    {4, "PSE"},  {5, "PAE"},
      {6, "MCE"},       {7, "PGE"},    {8, "PCE"},    {9, "OSFXSR"}, {10, "OSXMMEXCPT"},
      {11, "UMIP"},     {12, "LA57"},  {13, "VMXE"},  {14, "SMXE"}, {16, "FSGSBASE"},
      {17, "PCIDE"},    {18, "OSXSAVE"}, {19, "KL"},  {20, "SMEP"}, {21, "SMAP"},
      {22, "PKE"},      {23, "CET"},   {24, "PKS"},   {25, "UINTR"}, {27, "LASS"}};
  return decode_bits(cr4, names);
}

std::string decode_efer(uint64_t efer) {
  static constexpr BitName names[] = {{0, "SCE"}, {8, "LME"}, {10, "LMA"}, {11, "NXE"}};
  return decode_bits(efer, names);
}

std::string vector_name(int v) {
  static constexpr const char* names[] = {"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD",
                                          "#NM", "#DF", "coprocessor overrun", "#TS", "#NP",
                                          "#SS", "#GP", "#PF", "vector 15", "#MF", "#AC",
                                          "#MC", "#XM", "#VE", "#CP"};
  if (v >= 0 && v < int(std::size(names))) return names[v];
  if (v < 0) return "unknown exception";
  return fmt::format("vector {}", v);
}

bool has_error_code(int v) {
  return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21;
}

std::string decode_pf_error(uint64_t ec) {
  std::string s = fmt::format("{:#x} = {} {}, {}, {}", ec,
                              (ec & 1) ? "protection violation on" : "not-present",
                              (ec & 2) ? "write" : "read", (ec & 4) ? "user" : "supervisor",
                              (ec & 16) ? "instruction fetch" : "data");
  if (ec & 8) s += ", reserved bit set in a paging entry";
  if (ec & 32) s += ", protection key";
  if (ec & 64) s += ", shadow stack";
  return s;
}

std::string decode_selector_error(uint64_t ec) {
  if (ec == 0) return "0 (no selector involved)";
  const char* table = (ec & 2) ? "IDT vector" : (ec & 4) ? "LDT selector" : "GDT selector";
  uint64_t index = (ec & 2) ? (ec >> 3) : (ec & ~7ull);
  return fmt::format("{:#x} = {} {:#x}{}", ec, table, index, (ec & 1) ? " (external event)" : "");
}

Descriptor decode_descriptor(uint64_t raw) {
  Descriptor d;
  d.raw = raw;
  d.base = uint32_t(((raw >> 16) & 0xffffff) | ((raw >> 56) << 24));
  uint32_t limit = uint32_t((raw & 0xffff) | (((raw >> 48) & 0xf) << 16));
  // Access byte (bits 47:40) -> AR 7:0; flags nibble (bits 55:52) -> AR 15:12.
  d.attributes = uint16_t(((raw >> 40) & 0xff) | (((raw >> 52) & 0xf) << 12));
  d.limit = (d.attributes & 0x8000) ? (limit << 12) | 0xfff : limit;
  return d;
}

std::string describe_attributes(uint16_t ar) {
  const bool present = ar & 0x80, s = ar & 0x10, code = s && (ar & 0x8);
  const bool l = ar & 0x2000, db = ar & 0x4000;
  std::string kind;
  if (!s)
    kind = fmt::format("system descriptor type {}", ar & 0xf);
  else if (!code)
    kind = "data";
  else if (l && !db)
    kind = "64-bit code";
  else if (l && db)
    kind = "invalid code (L=1 with D=1)";
  else
    kind = db ? "32-bit code" : "16-bit code";
  return fmt::format("{}, DPL{}, P={} (L={} D={})", kind, (ar >> 5) & 3, present ? 1 : 0,
                     l ? 1 : 0, db ? 1 : 0);
}

std::string describe_descriptor(const Descriptor& d) {
  if (d.raw == 0) return "0x0: null descriptor";
  return fmt::format("{:#018x}: {}, base {:#x}, limit {:#x}", d.raw, describe_attributes(d.attributes),
                     d.base, d.limit);
}

}  // namespace tdsim::diag
