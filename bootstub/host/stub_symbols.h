// A boot stub's labels, read with libelf from the ELF object its blob was flattened from
// (tdsim_add_stub's stub_NAME.o), so traces and fault reports can say
// <td_boot_enable_paging> rather than stub+0x2c. The blob is the object's .text, so a
// label's value in .text is its offset in the blob.
#pragma once
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/td_image.h"

namespace tdsim {

struct StubLabel {
  std::string name;
  uint64_t offset = 0;  // from the blob's first byte
};

// Not an ELF relocatable object, or no symbol table: what is wrong, in the message.
class StubSymbolsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Every named symbol defined in the object's .text section (local ones included: stubs
// label their steps without exporting them), sorted by offset. Throws StubSymbolsError.
std::vector<StubLabel> read_stub_labels(std::span<const uint8_t> elf_object);

// The labels as image symbols for a stub placed at stub_gpa, each spanning up to the next
// label or the stub's end, so an address inside the stub resolves to its step.
std::vector<Symbol> stub_label_symbols(const std::vector<StubLabel>& labels, uint64_t stub_gpa,
                                       uint64_t stub_size);

}  // namespace tdsim
