// Decoding of x86 architectural values into words a stub author reads: control
// registers, EFER, GDT descriptors, exception vectors and error codes. Pure functions;
// no engine, no image.
#pragma once
#include <cstdint>
#include <string>

namespace tdsim::diag {

std::string decode_cr0(uint64_t cr0);    // "0x80000021 = PE NE PG"
std::string decode_cr4(uint64_t cr4);
std::string decode_efer(uint64_t efer);

// "#GP", "#PF", ... ; "vector 42" for the rest.
std::string vector_name(int vector);
// Exceptions that push an error code (SDM vol. 3, table 6-1).
bool has_error_code(int vector);
// #PF error code: "0x2 = not-present write, supervisor, data"
std::string decode_pf_error(uint64_t ec);
// #GP/#TS/#NP/#SS selector error code: "0x8 = GDT selector 0x8" / "0 (no selector)".
std::string decode_selector_error(uint64_t ec);

// A legacy 8-byte GDT descriptor, with attributes in the VMX access-rights layout
// (see diag/cpu_state.h SegmentView) so one decoder serves both.
struct Descriptor {
  uint64_t raw = 0;
  uint32_t base = 0;
  uint32_t limit = 0;        // scaled by G
  uint16_t attributes = 0;   // type 3:0, S 4, DPL 6:5, P 7, AVL 12, L 13, D/B 14, G 15

  bool present() const { return attributes & (1u << 7); }
  bool system() const { return !(attributes & (1u << 4)); }
  bool code() const { return !system() && (attributes & (1u << 3)); }
  bool l() const { return attributes & (1u << 13); }
  bool d() const { return attributes & (1u << 14); }
  unsigned dpl() const { return (attributes >> 5) & 3; }
  // What a far jump into IA-32e mode needs at KERNEL_CS: present code, L=1, D=0.
  bool is_64bit_code() const { return present() && code() && l() && !d(); }
};

Descriptor decode_descriptor(uint64_t raw);
// "0x00af9b000000ffff: 64-bit code, DPL0, P=1 (L=1 D=0)" and the like.
std::string describe_descriptor(const Descriptor& d);
// The same words for segment attributes already in VMX AR layout (CS at a fault).
std::string describe_attributes(uint16_t ar);

}  // namespace tdsim::diag
