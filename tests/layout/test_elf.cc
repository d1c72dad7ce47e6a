#include "tests/layout/test_elf.h"

#include <cstring>

namespace tdsim::layouttest {
namespace {

template <class T>
size_t append(std::vector<uint8_t>& out, const T& v) {
  const size_t at = out.size();
  out.resize(at + sizeof v);
  std::memcpy(out.data() + at, &v, sizeof v);
  return at;
}

size_t append_bytes(std::vector<uint8_t>& out, const std::vector<uint8_t>& b) {
  while (out.size() % 16) out.push_back(0);
  const size_t at = out.size();
  out.insert(out.end(), b.begin(), b.end());
  return at;
}

void fill_ident(unsigned char* id, unsigned char cls) {
  std::memcpy(id, ELFMAG, SELFMAG);
  id[EI_CLASS] = cls;
  id[EI_DATA] = ELFDATA2LSB;
  id[EI_VERSION] = EV_CURRENT;
}

}  // namespace

std::vector<uint8_t> TestElf::build() const {
  std::vector<uint8_t> out(sizeof(Elf64_Ehdr) + segments.size() * sizeof(Elf64_Phdr), 0);
  std::vector<Elf64_Phdr> ph;
  for (const TestSegment& s : segments) {
    Elf64_Phdr p{};
    p.p_type = PT_LOAD;
    p.p_flags = s.flags;
    p.p_offset = append_bytes(out, s.bytes);
    p.p_vaddr = p.p_paddr = s.vaddr;
    p.p_filesz = s.bytes.size();
    p.p_memsz = s.memsz ? s.memsz : s.bytes.size();
    p.p_align = 4096;
    ph.push_back(p);
  }
  if (!ph.empty()) std::memcpy(out.data() + sizeof(Elf64_Ehdr), ph.data(), ph.size() * sizeof(Elf64_Phdr));

  std::vector<uint8_t> strtab(1, 0);
  std::vector<uint8_t> symtab(sizeof(Elf64_Sym), 0);  // entry 0 is the null symbol
  for (const TestSymbol& s : symbols) {
    Elf64_Sym sym{};
    sym.st_name = static_cast<uint32_t>(strtab.size());
    strtab.insert(strtab.end(), s.name.begin(), s.name.end());
    strtab.push_back(0);
    sym.st_info = ELF64_ST_INFO(STB_GLOBAL, s.type);
    sym.st_shndx = SHN_ABS;
    sym.st_value = s.addr;
    sym.st_size = s.size;
    append(symtab, sym);
  }
  const std::string shnames = std::string("\0.symtab\0.strtab\0.shstrtab\0", 27);
  const size_t symtab_off = append_bytes(out, symtab);
  const size_t strtab_off = append_bytes(out, strtab);
  const size_t shstr_off = append_bytes(out, std::vector<uint8_t>(shnames.begin(), shnames.end()));
  while (out.size() % 8) out.push_back(0);
  const size_t shoff = out.size();
  Elf64_Shdr sh[4]{};
  sh[1].sh_name = 1;
  sh[1].sh_type = SHT_SYMTAB;
  sh[1].sh_offset = symtab_off;
  sh[1].sh_size = symtab.size();
  sh[1].sh_link = 2;
  sh[1].sh_info = 1;
  sh[1].sh_entsize = sizeof(Elf64_Sym);
  sh[1].sh_addralign = 8;
  sh[2].sh_name = 9;
  sh[2].sh_type = SHT_STRTAB;
  sh[2].sh_offset = strtab_off;
  sh[2].sh_size = strtab.size();
  sh[2].sh_addralign = 1;
  sh[3].sh_name = 17;
  sh[3].sh_type = SHT_STRTAB;
  sh[3].sh_offset = shstr_off;
  sh[3].sh_size = shnames.size();
  sh[3].sh_addralign = 1;
  for (const Elf64_Shdr& s : sh) append(out, s);

  Elf64_Ehdr eh{};
  fill_ident(eh.e_ident, ELFCLASS64);
  eh.e_type = type;
  eh.e_machine = machine;
  eh.e_version = EV_CURRENT;
  eh.e_entry = entry;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_shoff = shoff;
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = static_cast<uint16_t>(segments.size());
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = 4;
  eh.e_shstrndx = 3;
  std::memcpy(out.data(), &eh, sizeof eh);
  return out;
}

TestElf simple_guest(bool with_config, bool with_idt_stubs) {
  TestElf e;
  e.entry = 0x400000;
  std::vector<uint8_t> text(0x300, 0xcc);
  text[0] = 0xf4;  // HLT
  e.segments.push_back({0x400000, text, 0, PF_R | PF_X});
  std::vector<uint8_t> data(0x80);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i + 1);
  e.segments.push_back({0x401000, data, 0x2000, PF_R | PF_W});
  e.symbols.push_back({"guest_main", 0x400000, 0x10, STT_FUNC});
  e.symbols.push_back({"guest_data", 0x401000, 0x40, STT_OBJECT});
  if (with_config) e.symbols.push_back({"tdsim_guest_config", 0x401040, 48, STT_OBJECT});
  if (with_idt_stubs) {
    e.segments.push_back({0x403000, std::vector<uint8_t>(0x1000, 0xcc), 0, PF_R | PF_X});
    e.symbols.push_back({"tdsim_idt_stubs", 0x403000, 0x1000, STT_FUNC});
  }
  return e;
}

std::vector<uint8_t> elf32_file() {
  std::vector<uint8_t> out(sizeof(Elf32_Ehdr), 0);
  Elf32_Ehdr eh{};
  fill_ident(eh.e_ident, ELFCLASS32);
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_386;
  eh.e_version = EV_CURRENT;
  eh.e_entry = 0x400000;
  eh.e_ehsize = sizeof(Elf32_Ehdr);
  std::memcpy(out.data(), &eh, sizeof eh);
  return out;
}

}  // namespace tdsim::layouttest
