#include "bootstub/host/stub_symbols.h"

#include <gelf.h>
#include <libelf.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace tdsim {
namespace {

struct ElfCloser {
  void operator()(Elf* e) const { elf_end(e); }
};

std::string libelf_error() {
  const char* m = elf_errmsg(-1);
  return m ? m : "unknown libelf error";
}

}  // namespace

std::vector<StubLabel> read_stub_labels(std::span<const uint8_t> elf_object) {
  if (elf_version(EV_CURRENT) == EV_NONE) throw StubSymbolsError("libelf: " + libelf_error());
  // elf_memory wants a mutable pointer but, opened for reading, never writes.
  std::unique_ptr<Elf, ElfCloser> elf(
      elf_memory(reinterpret_cast<char*>(const_cast<uint8_t*>(elf_object.data())), elf_object.size()));
  if (!elf || elf_kind(elf.get()) != ELF_K_ELF) throw StubSymbolsError("not an ELF file");
  GElf_Ehdr eh;
  if (!gelf_getehdr(elf.get(), &eh)) throw StubSymbolsError("no ELF header: " + libelf_error());
  if (eh.e_type != ET_REL) throw StubSymbolsError("not a relocatable object (the assembler's output)");
  size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf.get(), &shstrndx) != 0) throw StubSymbolsError("no section names: " + libelf_error());

  size_t text_index = 0;
  Elf_Scn* symtab = nullptr;
  GElf_Shdr symtab_hdr{};
  for (Elf_Scn* scn = elf_nextscn(elf.get(), nullptr); scn; scn = elf_nextscn(elf.get(), scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) throw StubSymbolsError("bad section header: " + libelf_error());
    const char* name = elf_strptr(elf.get(), shstrndx, sh.sh_name);
    if (name && std::strcmp(name, ".text") == 0) text_index = elf_ndxscn(scn);
    if (sh.sh_type == SHT_SYMTAB) {
      symtab = scn;
      symtab_hdr = sh;
    }
  }
  if (text_index == 0) throw StubSymbolsError("no .text section");
  if (!symtab) throw StubSymbolsError("no symbol table");

  Elf_Data* data = elf_getdata(symtab, nullptr);
  if (!data || symtab_hdr.sh_entsize == 0) throw StubSymbolsError("unreadable symbol table: " + libelf_error());
  const size_t count = symtab_hdr.sh_size / symtab_hdr.sh_entsize;
  std::vector<StubLabel> labels;
  for (size_t i = 0; i < count; ++i) {
    GElf_Sym sym;
    if (!gelf_getsym(data, static_cast<int>(i), &sym)) throw StubSymbolsError("bad symbol: " + libelf_error());
    const int type = GELF_ST_TYPE(sym.st_info);
    if (sym.st_shndx != text_index || (type != STT_NOTYPE && type != STT_FUNC)) continue;
    const char* name = elf_strptr(elf.get(), symtab_hdr.sh_link, sym.st_name);
    // Assembler-local labels (.L...) are not names anyone wrote for a reader.
    if (!name || name[0] == '\0' || name[0] == '.') continue;
    labels.push_back({name, sym.st_value});
  }
  std::stable_sort(labels.begin(), labels.end(),
                   [](const StubLabel& a, const StubLabel& b) { return a.offset < b.offset; });
  return labels;
}

std::vector<Symbol> stub_label_symbols(const std::vector<StubLabel>& labels, uint64_t stub_gpa,
                                       uint64_t stub_size) {
  std::vector<Symbol> out;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i].offset >= stub_size) continue;  // an end label names no instruction
    const uint64_t end = i + 1 < labels.size() ? std::min(labels[i + 1].offset, stub_size) : stub_size;
    out.push_back({labels[i].name, stub_gpa + labels[i].offset, end - labels[i].offset});
  }
  return out;
}

}  // namespace tdsim
