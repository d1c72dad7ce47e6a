// Test helper: hand-built ELF64 files (with <elf.h> structs) so layout tests need no
// guest toolchain, plus byte patching for the malformed-ELF cases.
#pragma once
#include <elf.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tdsim::layouttest {

struct TestSegment {
  uint64_t vaddr = 0;
  std::vector<uint8_t> bytes;  // p_filesz bytes
  uint64_t memsz = 0;          // 0: bytes.size()
  uint32_t flags = PF_R;
};

struct TestSymbol {
  std::string name;
  uint64_t addr = 0;
  uint64_t size = 0;
  unsigned type = STT_FUNC;
};

struct TestElf {
  uint64_t entry = 0;
  std::vector<TestSegment> segments;
  std::vector<TestSymbol> symbols;
  uint16_t machine = EM_X86_64;
  uint16_t type = ET_EXEC;

  std::vector<uint8_t> build() const;
};

// Text at 0x400000 (RX, 0x300 bytes: HLT then INT3s), data at 0x401000 (RW, 0x80 file
// bytes, memsz 0x2000: bss), symbols guest_main, guest_data; tdsim_guest_config
// (48-byte object at 0x401040) and tdsim_idt_stubs (0x1000 bytes at 0x402000, in a
// third RX segment) only when asked.
TestElf simple_guest(bool with_config = true, bool with_idt_stubs = false);

inline Elf64_Ehdr* ehdr(std::vector<uint8_t>& f) { return reinterpret_cast<Elf64_Ehdr*>(f.data()); }
inline Elf64_Phdr* phdr(std::vector<uint8_t>& f, size_t i) {
  return reinterpret_cast<Elf64_Phdr*>(f.data() + ehdr(f)->e_phoff + i * sizeof(Elf64_Phdr));
}

// A minimal, well-formed 32-bit i386 ELF executable header (no segments).
std::vector<uint8_t> elf32_file();

}  // namespace tdsim::layouttest
